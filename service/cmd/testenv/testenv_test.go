package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgateway/wsgateway/service/gatewaytest"
)

// lineTimeout bounds the wait for one line of testenv's stdout (the first
// one includes starting Redis, two nodes and HAProxy).
const lineTimeout = 60 * time.Second

// proc is a running testenv: its stdin, and its stdout line by line.
type proc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	done  chan error
}

// startTestenv builds testenv and runs it with args; the test's cleanup
// kills it if it still runs.
func startTestenv(t *testing.T, args ...string) *proc {
	t.Helper()
	gw := gatewaytest.Binary(t, gatewaytest.BuildOptions{})
	bin := filepath.Join(t.TempDir(), "testenv")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build testenv: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, append([]string{"-gateway", gw}, args...)...)
	cmd.Stderr = &gatewaytest.Buffer{}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stdin: stdin, lines: make(chan string, 16), done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("testenv's stderr:\n%s", cmd.Stderr.(*gatewaytest.Buffer).Tail(8000))
		}
	})
	return p
}

// read decodes testenv's next line into v.
func (p *proc) read(t *testing.T, v any) {
	t.Helper()
	select {
	case line := <-p.lines:
		if err := json.Unmarshal([]byte(line), v); err != nil {
			t.Fatalf("testenv printed %q: %v", line, err)
		}
	case err := <-p.done:
		t.Fatalf("testenv exited (%v) instead of printing a line", err)
	case <-time.After(lineTimeout):
		t.Fatalf("no line from testenv within %v", lineTimeout)
	}
}

// ask sends one command and decodes its answer into v.
func (p *proc) ask(t *testing.T, cmd string, v any) {
	t.Helper()
	if _, err := io.WriteString(p.stdin, cmd+"\n"); err != nil {
		t.Fatalf("write %s: %v", cmd, err)
	}
	p.read(t, v)
}

// alive reports whether a process with this pid exists.
func alive(pid int) bool {
	return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

func TestTwoNodesOnRedisBehindHAProxy(t *testing.T) {
	p := startTestenv(t, "-nodes", "2", "-redis", "-lb", "--", "--dev", "--drain-delay", "0s", "--drain-window", "1s")
	var env summary
	p.read(t, &env)

	if !strings.HasPrefix(env.Redis, "redis://127.0.0.1:") || !strings.HasPrefix(env.LB, "ws://127.0.0.1:") ||
		!strings.HasSuffix(env.LB, "/ws") || env.RedisPID == 0 || env.LBPID == 0 || len(env.Nodes) != 2 {
		t.Fatalf("summary = %+v, want Redis, HAProxy and two nodes", env)
	}
	for i, n := range env.Nodes {
		if n.Index != i || n.ID != []string{"n0", "n1"}[i] || n.PID == 0 || n.WS != strings.Replace(n.HTTP, "http:", "ws:", 1)+"/ws" {
			t.Errorf("node %d = %+v", i, n)
		}
	}

	// A client through the balancer reaches one of the two nodes.
	if node := connect(t, env.LB); node != "n0" && node != "n1" {
		t.Errorf("connect through HAProxy: node %q, want n0 or n1", node)
	}
	if node := connect(t, env.Nodes[1].WS); node != "n1" {
		t.Errorf("connect to node 1: node %q, want n1", node)
	}

	var ok okAnswer
	p.ask(t, `{"op":"kill","node":1}`, &ok)
	if !ok.OK || alive(env.Nodes[1].PID) {
		t.Fatalf("kill: answer %+v, pid %d alive %v", ok, env.Nodes[1].PID, alive(env.Nodes[1].PID))
	}
	var again nodeEntry
	p.ask(t, `{"op":"restart","node":1}`, &again)
	if again.PID == 0 || again.PID == env.Nodes[1].PID || again.WS != env.Nodes[1].WS || again.Admin != env.Nodes[1].Admin {
		t.Fatalf("restart: %+v, want a new pid on the ports of %+v", again, env.Nodes[1])
	}
	if node := connect(t, again.WS); node != "n1" {
		t.Errorf("connect to the restarted node 1: node %q, want n1", node)
	}

	p.ask(t, `{"op":"signal","node":0,"signal":"TERM"}`, &ok)
	var exit exitAnswer
	p.ask(t, `{"op":"wait","node":0,"timeout":30}`, &exit)
	if exit.ExitCode != 0 {
		t.Errorf("node 0 exited with %d after its drain, want 0", exit.ExitCode)
	}
	var bad errorAnswer
	p.ask(t, `{"op":"signal","node":7,"signal":"TERM"}`, &bad)
	if !strings.Contains(bad.Error, "no node 7") {
		t.Errorf("a command for node 7 answered %+v", bad)
	}

	// The end of stdin stops everything that still runs.
	p.stdin.Close()
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("testenv exited with %v after stdin ended, want 0", err)
		}
	case <-time.After(lineTimeout):
		t.Fatal("testenv still runs after stdin ended")
	}
	for name, pid := range map[string]int{"redis": env.RedisPID, "haproxy": env.LBPID, "node 1": again.PID} {
		if alive(pid) {
			t.Errorf("%s (pid %d) still runs after testenv exited", name, pid)
		}
	}
}

func TestSIGTERMStopsEverything(t *testing.T) {
	p := startTestenv(t, "-nodes", "1", "--", "--dev")
	var env summary
	p.read(t, &env)
	if env.Redis != "" || env.LB != "" || len(env.Nodes) != 1 {
		t.Fatalf("summary = %+v, want one node and nothing else", env)
	}
	resp, err := http.Get(env.Nodes[0].Admin + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz: %s", resp.Status)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(lineTimeout):
		t.Fatal("testenv still runs after SIGTERM")
	}
	if alive(env.Nodes[0].PID) {
		t.Errorf("node (pid %d) still runs after testenv's SIGTERM", env.Nodes[0].PID)
	}
}

// connect dials url, sends connect and returns the node of the result.
func connect(t *testing.T, url string) string {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second, Subprotocols: []string{"wsgateway.v1"}}
	ws, _, err := d.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"id":1,"op":"connect"}`)); err != nil {
		t.Fatal(err)
	}
	var reply struct {
		Result struct{ Node string } `json:"result"`
	}
	if err := ws.ReadJSON(&reply); err != nil {
		t.Fatalf("connect on %s: %v", url, err)
	}
	return reply.Result.Node
}

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		err  string
	}{
		{"defaults", nil, ""},
		{"no nodes", []string{"-nodes", "0"}, "at least one node"},
		{"too many behind HAProxy", []string{"-lb", "-nodes", "4", "-redis"}, "at most 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseFlags(tc.args, io.Discard)
			if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("parseFlags(%q) = %v, want an error with %q", tc.args, err, tc.err)
			}
		})
	}
}

func TestFlagValue(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--dev"}, ""},
		{[]string{"--api-key", "K"}, "K"},
		{[]string{"-api-key=K"}, "K"},
		{[]string{"--api-key=A", "--dev", "--api-key", "B"}, "B"},
		{[]string{"--api-keys", "X"}, ""},
	} {
		if got := flagValue(tc.args, "api-key"); got != tc.want {
			t.Errorf("flagValue(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestPrefixWriterKeepsLinesWhole(t *testing.T) {
	var out strings.Builder
	mu := new(sync.Mutex)
	w := &prefixWriter{prefix: "[n0] ", mu: mu, w: &out}
	for _, part := range []string{"{\"a\":", "1}\n{\"b\"", ":2}\n"} {
		_, _ = w.Write([]byte(part))
	}
	if want := "[n0] {\"a\":1}\n[n0] {\"b\":2}\n"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

func TestHooksExampleServesTheReferenceBackend(t *testing.T) {
	p := startTestenv(t, "-hooks-example", "--", "--dev", "--drain-delay", "0s", "--drain-window", "0s")
	var env summary
	p.read(t, &env)
	if !strings.HasPrefix(env.Backend, "http://127.0.0.1:") || len(env.Nodes) != 1 {
		t.Fatalf("summary = %+v, want a backend on 127.0.0.1 and one node", env)
	}

	// The node calls the backend: the session cookie names the user (mode
	// hook of the example's hooks.yaml), and a client without one is refused.
	reply := call(t, env.Nodes[0].WS, "session=s1", `{"id":1,"op":"connect"}`)
	if reply["result"] == nil || reply["result"].(map[string]any)["user"] != "alice" ||
		!cmpJSON(reply["result"].(map[string]any)["data"], map[string]any{"name": "alice"}) {
		t.Errorf("connect with session=s1: %v, want user alice and data {name: alice}", reply)
	}
	if reply := call(t, env.Nodes[0].WS, "", `{"id":1,"op":"connect"}`); reply["error"] == nil ||
		reply["error"].(map[string]any)["code"] != "unauthorized" {
		t.Errorf("connect without a session: %v, want error unauthorized from the backend", reply)
	}
	// The backend answers hook calls directly too, at the address printed.
	resp, err := http.Post(env.Backend+"/wsgateway/rpc", "application/json",
		strings.NewReader(`{"hook":"rpc","method":"echo:upper","data":"hi"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `{"result":{"data":"HI"}}`; strings.TrimSpace(string(body)) != want {
		t.Errorf("POST %s/wsgateway/rpc: %s %s, want %s", env.Backend, resp.Status, body, want)
	}

	p.stdin.Close()
	select {
	case <-p.done:
	case <-time.After(lineTimeout):
		t.Fatal("testenv still runs after stdin ended")
	}
	if _, err := http.Post(env.Backend+"/wsgateway/rpc", "application/json", strings.NewReader("{}")); err == nil {
		t.Errorf("the backend still answers at %s after testenv exited", env.Backend)
	}
}

// call dials url with the cookie (none when empty), sends one command and
// returns its reply.
func call(t *testing.T, url, cookie, cmd string) map[string]any {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second, Subprotocols: []string{"wsgateway.v1"}}
	h := http.Header{}
	if cookie != "" {
		h.Set("Cookie", cookie)
	}
	ws, _, err := d.Dial(url, h)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if err := ws.WriteMessage(websocket.TextMessage, []byte(cmd)); err != nil {
		t.Fatal(err)
	}
	var reply map[string]any
	if err := ws.ReadJSON(&reply); err != nil {
		t.Fatalf("%s on %s: %v", cmd, url, err)
	}
	return reply
}

// cmpJSON reports whether two decoded JSON values are equal.
func cmpJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
