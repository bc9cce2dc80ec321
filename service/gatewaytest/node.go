package gatewaytest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"
)

// Bounds on the waits around a node.
const (
	// startTimeout bounds the wait for the "listening" log line, and then
	// again for /readyz to answer 200.
	startTimeout = 15 * time.Second
	// stopTimeout bounds the wait for a node to exit after Stop or Kill.
	stopTimeout = 30 * time.Second
)

// Node is one running gateway: a child process or Run in a goroutine. Its
// methods are for the goroutine of the test that started it, except Done
// and ReadMetrics; its addresses do not change for its life, Restart
// included.
type Node struct {
	// Client, API and Admin are the host:port of the client port (GET /ws),
	// the backend API and the operator port (/metrics, /readyz).
	Client, API, Admin string
	// Logs holds the node's JSON log lines (stdout) and its stderr.
	Logs *Buffer

	t    testing.TB
	opts Options
	bin  string // the binary; "" in process
	cur  *instance
}

// instance is one life of a node, from a start to its exit. The goroutine
// that waits for the exit sets code and then closes done, so code may be
// read only after done is closed.
type instance struct {
	proc   *os.Process        // the child; nil in process
	cancel context.CancelFunc // the in-process node's drain; nil for a child
	done   chan struct{}
	code   int
}

// URL is the WebSocket URL clients dial: ws://Client/ws.
func (n *Node) URL() string { return "ws://" + n.Client + "/ws" }

// APIURL is the base URL of the backend API: http://API.
func (n *Node) APIURL() string { return "http://" + n.API }

// AdminURL is the base URL of the operator port: http://Admin.
func (n *Node) AdminURL() string { return "http://" + n.Admin }

// PID is the child process's id; 0 for a node run in process.
func (n *Node) PID() int {
	if n.cur.proc == nil {
		return 0
	}
	return n.cur.proc.Pid
}

// Done is closed when the current run of the node has exited.
func (n *Node) Done() <-chan struct{} { return n.cur.done }

// Signal sends SIGTERM to the child: the first starts the drain, a second
// exits at once with code 1. In process it starts the drain (the same as
// the first SIGTERM); there is no second.
func (n *Node) Signal(t testing.TB) {
	t.Helper()
	if n.cur.proc == nil {
		n.cur.cancel()
		return
	}
	if err := n.cur.proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM pid %d: %v", n.cur.proc.Pid, err)
	}
}

// Kill sends SIGKILL to the child, by its PID, and waits for it to exit.
// A node run in process cannot be killed: start it as the binary.
func (n *Node) Kill(t testing.TB) {
	t.Helper()
	if n.cur.proc == nil {
		t.Fatal("gatewaytest: an in-process node cannot be killed; start the binary (Options.InProcess false)")
	}
	if err := n.kill(); err != nil {
		t.Fatal(err)
	}
}

// kill is Kill without a test, for cleanups.
func (n *Node) kill() error {
	if err := n.cur.proc.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("SIGKILL pid %d: %w", n.cur.proc.Pid, err)
	}
	select {
	case <-n.cur.done:
		return nil
	case <-time.After(stopTimeout):
		return fmt.Errorf("pid %d still running %v after SIGKILL", n.cur.proc.Pid, stopTimeout)
	}
}

// Wait waits for the node to exit and returns its exit code (-1 for a child
// ended by a signal); it fails the test after timeout.
func (n *Node) Wait(t testing.TB, timeout time.Duration) int {
	t.Helper()
	select {
	case <-n.cur.done:
		return n.cur.code
	case <-time.After(timeout):
		t.Fatalf("node still running after %v; logs:\n%s", timeout, n.Logs.Tail(4000))
		return 0
	}
}

// Stop drains the node (SIGTERM, or the in-process equivalent) and waits
// for it to exit; a child that is still running after the wait is killed.
// It does nothing when the node has already exited, so a test may call it
// before the cleanup does.
func (n *Node) Stop() {
	select {
	case <-n.cur.done:
		return
	default:
	}
	if n.cur.proc == nil {
		n.cur.cancel()
	} else if err := n.cur.proc.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		n.t.Errorf("SIGTERM pid %d: %v", n.cur.proc.Pid, err)
	}
	select {
	case <-n.cur.done:
	case <-time.After(stopTimeout):
		n.t.Errorf("node did not stop within %v of the drain; logs:\n%s", stopTimeout, n.Logs.Tail(4000))
		if n.cur.proc != nil {
			_ = n.kill()
		}
	}
}

// cleanup ends the node at the end of the test, as Close does.
func (n *Node) cleanup() {
	if n.cur == nil { // the start failed
		return
	}
	if err := n.Close(); err != nil {
		n.t.Error(err)
	}
}

// Close ends the node: a child is killed by its PID (nothing of its drain
// is being measured any more) and waited for; a node in process drains,
// since it cannot be killed. A test's cleanup does this for a node that
// Start started; a node that Launch started is the caller's to Close.
func (n *Node) Close() error {
	if n.cur.proc != nil {
		return n.kill()
	}
	n.cur.cancel()
	select {
	case <-n.cur.done:
		return nil
	case <-time.After(stopTimeout):
		return fmt.Errorf("node did not stop within %v of the drain; logs:\n%s", stopTimeout, n.Logs.Tail(4000))
	}
}

// ExitCode waits for the current run of the node to exit and returns its
// exit code (-1 for a child ended by a signal).
func (n *Node) ExitCode() int {
	<-n.cur.done
	return n.cur.code
}

// Relaunch is Restart for a node that Launch started, once it has exited:
// the same arguments and addresses, and the error instead of a failed test.
func (n *Node) Relaunch() error {
	select {
	case <-n.cur.done:
	default:
		return errors.New("gatewaytest: Relaunch of a node that still runs")
	}
	return n.launch(listenArgs(n.Client, n.API, n.Admin))
}

// Restart stops the node if it still runs and starts it again with the same
// arguments and environment, on the same addresses, so that clients can
// reconnect where they were.
func (n *Node) Restart(t testing.TB) {
	t.Helper()
	n.Stop()
	if err := n.launch(listenArgs(n.Client, n.API, n.Admin)); err != nil {
		t.Fatal(err)
	}
}
