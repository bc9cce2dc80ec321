package backend_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"

	"github.com/wsgateway/wsgateway/examples/backend"
	"github.com/wsgateway/wsgateway/service/gatewaytest"
)

// shippedURL is the backend's address in the shipped hooks.yaml.
const shippedURL = "http://127.0.0.1:8090/wsgateway"

// startGateway serves the reference backend and starts a real gateway node with the shipped
// hooks.yaml, pointed at it.
func startGateway(t *testing.T) (*backend.Backend, *gatewaytest.Node) {
	t.Helper()
	b := backend.New(backend.Options{
		Sessions: map[string]string{"s1": "alice", "s2": "bob"},
		Banned:   []string{"spam"},
		Masked:   []string{"darn"},
	})
	mux := http.NewServeMux()
	mux.Handle("/wsgateway/", b)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	shipped, err := os.ReadFile("hooks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(shipped), shippedURL) {
		t.Fatalf("hooks.yaml does not name %s", shippedURL)
	}
	file := filepath.Join(t.TempDir(), "hooks.yaml")
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(string(shipped), shippedURL, srv.URL+"/wsgateway")), 0o600); err != nil {
		t.Fatal(err)
	}
	n := gatewaytest.Start(t, gatewaytest.Options{InProcess: true, Args: []string{"--dev", "--hooks-config", file, "--drain-delay", "0s", "--drain-window", "0s"}})
	return b, n
}

// conn is a WebSocket client of the gateway.
type conn struct {
	t       *testing.T
	c       *websocket.Conn
	pending []string         // messages of the last frame not read yet
	pushes  []map[string]any // pushes read while waiting for a reply
}

func dial(t *testing.T, n *gatewaytest.Node, cookie string) *conn {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"wsgateway.v1"}, HandshakeTimeout: 5 * time.Second}
	h := http.Header{}
	if cookie != "" {
		h.Set("Cookie", cookie)
	}
	c, _, err := d.Dial("ws://"+n.Client+"/ws", h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &conn{t: t, c: c}
}

// call sends a command and returns its reply, keeping the pushes read before it for push.
func (c *conn) call(cmd string) map[string]any {
	c.t.Helper()
	if err := c.c.WriteMessage(websocket.TextMessage, []byte(cmd)); err != nil {
		c.t.Fatal(err)
	}
	for {
		m := c.next()
		if m["push"] == nil {
			return m
		}
		c.pushes = append(c.pushes, m)
	}
}

// push returns the next push of the given kind, dropping replies and other pushes before it.
func (c *conn) push(kind string) map[string]any {
	c.t.Helper()
	for len(c.pushes) > 0 {
		m := c.pushes[0]
		c.pushes = c.pushes[1:]
		if m["push"] == kind {
			return m
		}
	}
	for {
		if m := c.next(); m["push"] == kind {
			return m
		}
	}
}

// next reads the next message (a frame may hold several, one per line).
func (c *conn) next() map[string]any {
	c.t.Helper()
	for len(c.pending) == 0 {
		if err := c.c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			c.t.Fatal(err)
		}
		_, data, err := c.c.ReadMessage()
		if err != nil {
			c.t.Fatal(err)
		}
		c.pending = strings.Split(strings.TrimSpace(string(data)), "\n")
	}
	line := c.pending[0]
	c.pending = c.pending[1:]
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		c.t.Fatalf("%q: %v", line, err)
	}
	return m
}

// closeCode reads until the connection closes and returns its close code.
func (c *conn) closeCode() int {
	c.t.Helper()
	for {
		if err := c.c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			c.t.Fatal(err)
		}
		_, _, err := c.c.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		if err != nil {
			c.t.Fatalf("read: %v, want a close frame", err)
		}
	}
}

// TestWithGateway drives a real gateway, configured with the shipped hooks.yaml, through every
// hook of the reference backend.
func TestWithGateway(t *testing.T) {
	b, n := startGateway(t)
	alice := dial(t, n, "session=s1")
	got := alice.call(`{"id":1,"op":"connect"}`)
	res, _ := got["result"].(map[string]any)
	if res["user"] != "alice" || !cmp.Equal(res["data"], map[string]any{"name": "alice"}) {
		t.Fatalf("connect by cookie: %v, want user alice and data {name: alice}", got)
	}

	got = alice.call(`{"id":2,"op":"subscribe","channel":"chat:lobby"}`)
	if data := got["result"].(map[string]any)["data"]; !cmp.Equal(data, map[string]any{"room": "chat:lobby", "messages": 0.0}) {
		t.Errorf("subscribe data: %v", got)
	}

	if got = alice.call(`{"id":3,"op":"publish","channel":"chat:lobby","data":{"text":"darn it"}}`); got["result"] == nil {
		t.Fatalf("publish: %v", got)
	}
	if m, want := alice.push("pub"), (map[string]any{"text": "**** it"}); !cmp.Equal(m["data"], want) {
		t.Errorf("published data %v, want the backend's replacement %v", m["data"], want)
	}

	got = alice.call(`{"id":4,"op":"publish","channel":"chat:lobby","data":"buy spam"}`)
	if e, _ := got["error"].(map[string]any); e["code"] != "app_banned_word" {
		t.Errorf("publish of a banned word: %v, want error app_banned_word", got)
	}

	got = alice.call(`{"id":5,"op":"rpc","method":"echo:upper","data":"hi"}`)
	if !cmp.Equal(got["result"], map[string]any{"data": "HI"}) {
		t.Errorf("rpc echo:upper: %v", got)
	}
	got = alice.call(`{"id":6,"op":"rpc","method":"room:info","data":{"room":"chat:lobby"}}`)
	if !cmp.Equal(got["result"], map[string]any{"data": map[string]any{"room": "chat:lobby", "messages": 1.0}}) {
		t.Errorf("rpc room:info: %v", got)
	}
	if got := b.Processed("publish"); got != 2 {
		t.Errorf("the backend processed %d publishes, want 2", got)
	}

	if err := alice.c.WriteMessage(websocket.TextMessage, []byte(`{"id":7,"op":"rpc","method":"session:logout"}`)); err != nil {
		t.Fatal(err)
	}
	if code := alice.closeCode(); code != 4500 {
		t.Errorf("after session:logout: close %d, want 4500", code)
	}
	// The gateway keeps a positive connect answer for 5 s per token and forwarded headers
	// (docs/hooks.md), so the very same Cookie header would still get in for a moment; another
	// header with the signed-out session reaches the backend, which refuses it.
	again := dial(t, n, "session=s1; theme=dark")
	if got := again.call(`{"id":1,"op":"connect"}`); got["error"] == nil {
		t.Errorf("connect with a signed-out session: %v, want an error", got)
	}
}
