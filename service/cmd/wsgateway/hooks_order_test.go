package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgateway/wsgateway/service/gatewaytest"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// holdBackend answers rpc hold:it only when the test releases it (or the
// gateway gives up), and every other hook at once.
type holdBackend struct {
	srv     *httptest.Server
	started chan struct{} // one token per hold:it call received
	release chan struct{} // closed: held calls answer
}

func startHoldBackend(t *testing.T) *holdBackend {
	t.Helper()
	b := &holdBackend{started: make(chan struct{}, 16), release: make(chan struct{})}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/rpc") && strings.Contains(string(raw), `"method":"hold:it"`) {
			b.started <- struct{}{}
			select {
			case <-b.release:
			case <-r.Context().Done():
				return
			}
			_, _ = io.WriteString(w, `{"result":{"data":"released"}}`)
			return
		}
		_, _ = io.WriteString(w, `{"result":{}}`)
	}))
	t.Cleanup(b.srv.Close)
	t.Cleanup(b.unblock) // before srv.Close, which waits for held calls
	return b
}

func (b *holdBackend) unblock() {
	select {
	case <-b.release:
	default:
		close(b.release)
	}
}

// frameLine is one line read off a connection, or the error that ended it.
type frameLine struct {
	raw []byte
	err error
}

// readLines reads c on its own goroutine, sending every line; it ends at
// the first error, which it sends last. Control frames are handled meanwhile
// by c's handlers, as gorilla does inside ReadMessage.
func readLines(c *websocket.Conn) <-chan frameLine {
	out := make(chan frameLine, 64)
	go func() {
		defer close(out)
		for {
			_, frame, err := c.ReadMessage()
			if err != nil {
				out <- frameLine{err: err}
				return
			}
			for _, line := range strings.Split(string(frame), "\n") {
				out <- frameLine{raw: []byte(line)}
			}
		}
	}()
	return out
}

// nextLine waits (bounded) for the next line of lines.
func nextLine(t *testing.T, lines <-chan frameLine, what string) protocol.Message {
	t.Helper()
	select {
	case l, ok := <-lines:
		if !ok || l.err != nil {
			t.Fatalf("%s: connection ended: %v", what, l.err)
		}
		return decode(t, l.raw)
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: nothing within 10s", what)
	}
	return protocol.Message{}
}

// TestHookSlowRPCBlocksNoOne: on the real binary, while connection A's rpc
// is held by its backend, connection B's commands are answered; A keeps
// receiving publications, answers WebSocket pings and pongs (three server
// ping periods pass with only pongs from A, past the 2-period silence that
// would close it), and its ping commands sent after the rpc are answered
// only after the rpc's reply, in command order.
func TestHookSlowRPCBlocksNoOne(t *testing.T) {
	t.Parallel()
	b := startHoldBackend(t)
	hooks := writeHooks(t, `endpoints:
  app: {url: "`+b.srv.URL+`/hooks", timeout: 1s}
rpc:
  hold: {endpoint: app, timeout: 30s}
`)
	g := gatewaytest.Start(t, gatewaytest.Options{Args: []string{
		"--jwt-secret", testSecret, "--api-key", faultAPIKey, "--hooks-config", hooks, "--ping-interval", "1s",
	}})
	a := connected(t, g, allToken(t, "a"))
	a.result(a.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "news:a"}))
	other := connected(t, g, allToken(t, "b"))

	serverPings, pongs := make(chan struct{}, 64), make(chan struct{}, 64)
	a.c.SetPingHandler(func(data string) error {
		serverPings <- struct{}{}
		return a.c.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(5*time.Second))
	})
	a.c.SetPongHandler(func(string) error { pongs <- struct{}{}; return nil })
	lines := readLines(a.c)
	a.send(`{"id":10,"op":"rpc","method":"hold:it","data":null}` + "\n" + `{"id":11,"op":"ping"}`)
	a.send(`{"id":12,"op":"ping"}`)
	select {
	case <-b.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the rpc never reached the backend")
	}

	// B is not delayed: its replies and its publication come while A waits.
	other.result(other.call(protocol.Command{Op: protocol.OpPing}))
	other.result(other.call(protocol.Command{Op: protocol.OpPublish, Channel: "news:a", Data: json.RawMessage(`"from b"`)}))
	if m := nextLine(t, lines, "A during the rpc"); m.Push != protocol.PushPub || string(m.Data) != `"from b"` {
		t.Fatalf("A got %s during its rpc, want B's publication (replies wait for the rpc's)", show(m))
	}

	// A's reader reads: its ping gets a pong, and server pings go on.
	if err := a.c.WriteControl(websocket.PingMessage, []byte("client"), time.Now().Add(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	waitSignal(t, pongs, "a pong to A's WebSocket ping")
	for range 3 {
		waitSignal(t, serverPings, "a server ping while the rpc is held")
	}
	apiPublish(t, g, faultAPIKey, "news:a", `"from api"`)
	if m := nextLine(t, lines, "A during the rpc"); m.Push != protocol.PushPub || string(m.Data) != `"from api"` {
		t.Fatalf("A got %s during its rpc, want the API's publication", show(m))
	}

	b.unblock()
	if m := nextLine(t, lines, "after the release"); m.ID != 10 || string(m.Result) != `{"data":"released"}` {
		t.Fatalf("first reply %s, want the rpc's (id 10)", show(m))
	}
	for _, id := range []uint64{11, 12} {
		if m := nextLine(t, lines, "after the rpc"); m.ID != id || m.Error != nil {
			t.Fatalf("got %s, want the reply to ping %d", show(m), id)
		}
	}
	a.send(`{"id":13,"op":"ping"}`)
	if m := nextLine(t, lines, "a ping after the rpc"); m.ID != 13 {
		t.Fatalf("got %s, want the reply to ping 13: A is still open", show(m))
	}
}

// waitSignal waits (bounded) for one token on ch.
func waitSignal(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s within 10s", what)
	}
}
