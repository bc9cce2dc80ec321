package gatewaytest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wsgateway/wsgateway/service/internal/gateway"
)

// Options configures a node that Start runs.
type Options struct {
	// Args are the gateway's flags. They come after the listeners Start
	// puts first (all three on 127.0.0.1:0), so they may move them; a flag
	// given twice takes its last value.
	Args []string
	// Env is the node's whole environment besides PATH, as "KEY=value"
	// entries: a child gets nothing else of the test's environment (no
	// stray WSG_* variable), and in process it is all that Run's getenv
	// reads.
	Env []string
	// InProcess runs the gateway's Run in this test binary rather than the
	// binary in a child process: faster, and under -race the race detector
	// watches the server too. It cannot be killed (see Node.Kill).
	InProcess bool
	// Race builds the binary with the race detector (see BuildOptions).
	Race bool
	// Bin is a gateway binary to run instead of building one (a tool that
	// was handed bin/wsgateway, such as testenv); empty: Binary/Build's.
	Bin string
	// Logs, when set, also receives the node's log as it is written (a
	// tool streaming it to its stderr); Node.Logs keeps it regardless.
	Logs io.Writer
}

// Start runs a node and returns once it logged its addresses and /readyz
// answers 200; it fails the test otherwise, with the node's log. The test's
// cleanup ends the node (see Node.Stop). Without InProcess it starts the
// binary, and so skips the test under -short.
func Start(t testing.TB, opts Options) *Node {
	t.Helper()
	n := &Node{t: t, opts: opts, Logs: &Buffer{tee: opts.Logs}}
	if !opts.InProcess {
		n.bin = opts.Bin
		if n.bin == "" {
			n.bin = Binary(t, BuildOptions{Race: opts.Race})
		}
	}
	t.Cleanup(n.cleanup)
	if err := n.launch(listenArgs("127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0")); err != nil {
		t.Fatal(err)
	}
	return n
}

// Launch is Start for a program that is not a test (a load tool): it
// returns the error, with the node's log, instead of failing a test, and
// the caller ends the node with Close. The methods that take a testing.TB,
// and Stop and Restart, are for nodes that Start started.
func Launch(opts Options) (*Node, error) {
	n := &Node{opts: opts, Logs: &Buffer{tee: opts.Logs}}
	if !opts.InProcess {
		n.bin = opts.Bin
		if n.bin == "" {
			bin, err := Build(BuildOptions{Race: opts.Race})
			if err != nil {
				return nil, err
			}
			n.bin = bin
		}
	}
	if err := n.launch(listenArgs("127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0")); err != nil {
		if n.cur != nil {
			_ = n.Close()
		}
		return nil, err
	}
	return n, nil
}

// listenArgs puts the three ports on the given addresses.
func listenArgs(client, api, admin string) []string {
	return []string{"--listen", client, "--api-listen", api, "--admin-listen", admin}
}

// launch starts one run of the node and waits until it is ready.
func (n *Node) launch(listen []string) error {
	args := append(listen, n.opts.Args...)
	addrs := make(chan listening, 1)
	var err error
	if n.bin == "" {
		n.cur = n.runInProcess(args, addrs)
	} else if n.cur, err = n.runBinary(args, addrs); err != nil {
		return err
	}
	select {
	case a := <-addrs:
		n.Client, n.API, n.Admin = a.Client, a.API, a.Admin
	case <-n.cur.done:
		return fmt.Errorf("gateway exited with %d before listening:\n%s", n.cur.code, n.Logs.Tail(4000))
	case <-time.After(startTimeout):
		return fmt.Errorf("gateway did not log its addresses within %v:\n%s", startTimeout, n.Logs.Tail(4000))
	}
	if err := n.waitReady(); err != nil {
		return fmt.Errorf("%w:\n%s", err, n.Logs.Tail(4000))
	}
	return nil
}

// runBinary starts the binary as a child process.
func (n *Node) runBinary(args []string, addrs chan<- listening) (*instance, error) {
	cmd := exec.Command(n.bin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, n.opts.Env...)
	cmd.Stderr = n.Logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", n.bin, err)
	}
	in := &instance{proc: cmd.Process, done: make(chan struct{})}
	go func() {
		n.readLogs(stdout, addrs) // to the end: Wait closes the pipe
		in.code = exitCode(cmd.Wait())
		close(in.done)
	}()
	return in, nil
}

// exitCode is a child's exit code from Wait's error; -1 when a signal ended it.
func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// runInProcess runs gateway.Run, exactly as main does, in a goroutine;
// cancelling its context is the first SIGTERM.
func (n *Node) runInProcess(args []string, addrs chan<- listening) *instance {
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{cancel: cancel, done: make(chan struct{})}
	pr, pw := io.Pipe()
	logsRead := make(chan struct{})
	go func() {
		n.readLogs(pr, addrs)
		close(logsRead)
	}()
	go func() {
		code := gateway.Run(ctx, "dev", args, n.getenv, pw, n.Logs)
		pw.Close()
		<-logsRead
		in.code = code
		close(in.done)
	}()
	return in
}

// getenv reads Options.Env, for the node run in process.
func (n *Node) getenv(key string) string {
	for _, kv := range n.opts.Env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}

// listening is the "listening" log line: the addresses the node bound.
type listening struct {
	Msg, Client, API, Admin string
}

// readLogs copies the node's log into Logs line by line, to the end, and
// reports the addresses of the first "listening" line.
func (n *Node) readLogs(r io.Reader, addrs chan<- listening) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	reported := false
	for sc.Scan() {
		line := sc.Bytes()
		_, _ = n.Logs.Write(append(append([]byte(nil), line...), '\n'))
		var l listening
		if !reported && json.Unmarshal(line, &l) == nil && l.Msg == "listening" {
			addrs <- l
			reported = true
		}
	}
	// Drain whatever a too-long line left, so the writer never blocks.
	_, _ = io.Copy(n.Logs, r)
}

// waitReady polls /readyz until it answers 200, the node exits, or
// startTimeout passes.
func (n *Node) waitReady() error {
	client := &http.Client{Timeout: 2 * time.Second}
	var last string
	for deadline := time.Now().Add(startTimeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		resp, err := client.Get(n.AdminURL() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-n.cur.done:
			return fmt.Errorf("gateway exited with %d before it was ready", n.cur.code)
		default:
		}
	}
	return fmt.Errorf("gateway not ready within %v: /readyz: %s", startTimeout, last)
}
