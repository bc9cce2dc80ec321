package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// Helpers for the multi-node tests over a real Redis (cluster_*_test.go).
// Everything here may be used off the test goroutine: nothing calls
// t.Fatal except the methods documented as test-goroutine only.

// startCluster runs one in-process node per id on srv's Redis, each with
// --dev, its own --node-id and the extra args.
func startCluster(t *testing.T, srv *redistest.Server, ids []string, extra ...string) []*gw {
	t.Helper()
	nodes := make([]*gw, len(ids))
	for i, id := range ids {
		nodes[i] = startNode(t, append([]string{"--dev", "--redis-url", srv.URL(), "--node-id", id}, extra...)...)
	}
	return nodes
}

// watcher is a raw protocol client whose reader runs on its own goroutine
// and keeps every object the server sends, in order. Commands may be sent
// from any goroutine; at the end a test replays the whole conversation
// (subscriptions) to check the contract's promises.
type watcher struct {
	c    *websocket.Conn
	done chan struct{} // closed when the reader ends
	more chan struct{} // signalled (without blocking) when objects arrive
	ids  atomic.Uint64
	wmu  sync.Mutex // one writer at a time

	mu      sync.Mutex
	sent    map[uint64]protocol.Command // commands by id
	msgs    []protocol.Message
	invalid []string // lines that were no protocol.Message, with why
	code    int      // close code (1006 without a close frame), once done
}

// watch dials g and sends connect with tok ("": none). Test goroutine only.
func watch(t *testing.T, g *gw, tok string) *watcher {
	t.Helper()
	c, resp, err := dialRaw(g, nil)
	if err != nil {
		t.Fatalf("dial %s: %v (status %v)", g.Client, err, status(resp))
	}
	w := &watcher{c: c, done: make(chan struct{}), more: make(chan struct{}, 1), sent: map[uint64]protocol.Command{}}
	go w.read()
	t.Cleanup(func() { c.Close(); <-w.done })
	w.must(t, protocol.Command{Op: protocol.OpConnect, Token: tok})
	return w
}

func (w *watcher) read() {
	defer close(w.done)
	for {
		_, frame, err := w.c.ReadMessage()
		if err != nil {
			code := websocket.CloseAbnormalClosure
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				code = ce.Code
			}
			w.mu.Lock()
			w.code = code
			w.mu.Unlock()
			return
		}
		for _, line := range bytes.Split(frame, []byte("\n")) {
			var m protocol.Message
			err := decodeStrict(line, &m)
			w.mu.Lock()
			if err != nil {
				w.invalid = append(w.invalid, fmt.Sprintf("%q: %v", line, err))
			} else {
				w.msgs = append(w.msgs, m)
			}
			w.mu.Unlock()
		}
		w.wake()
	}
}

// wake tells a waiting call that objects arrived; a signal already pending
// says as much.
func (w *watcher) wake() {
	select {
	case w.more <- struct{}{}:
	default:
	}
}

// call sends cmd with a fresh id and waits (5 s at most) for its reply.
func (w *watcher) call(cmd protocol.Command) (protocol.Message, error) {
	id := w.ids.Add(1)
	cmd.ID = id
	b, err := json.Marshal(cmd)
	if err != nil {
		return protocol.Message{}, fmt.Errorf("%s: encode: %w", cmd.Op, err)
	}
	w.mu.Lock()
	w.sent[id] = cmd
	w.mu.Unlock()
	w.wmu.Lock()
	_ = w.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	err = w.c.WriteMessage(websocket.TextMessage, b)
	w.wmu.Unlock()
	if err != nil {
		return protocol.Message{}, fmt.Errorf("%s: write: %w", cmd.Op, err)
	}
	timeout := time.After(5 * time.Second)
	for {
		if reply, ok := w.find(id); ok {
			return reply, nil
		}
		select {
		case <-w.more:
		case <-w.done:
			if reply, ok := w.find(id); ok {
				return reply, nil
			}
			return protocol.Message{}, fmt.Errorf("%s: connection closed before the reply", cmd.Op)
		case <-timeout:
			return protocol.Message{}, fmt.Errorf("%s: no reply in 5s", cmd.Op)
		}
	}
}

// find returns the reply with id, if it came.
func (w *watcher) find(id uint64) (protocol.Message, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := len(w.msgs) - 1; i >= 0; i-- {
		if w.msgs[i].ID == id {
			return w.msgs[i], true
		}
	}
	return protocol.Message{}, false
}

// must calls cmd and returns its raw result, failing on an error reply.
// Test goroutine only.
func (w *watcher) must(t *testing.T, cmd protocol.Command) json.RawMessage {
	t.Helper()
	reply, err := w.call(cmd)
	if err != nil {
		t.Fatal(err)
	}
	if reply.Error != nil || reply.Result == nil {
		t.Fatalf("%s %s: want a result, got %s", cmd.Op, cmd.Channel, show(reply))
	}
	return reply.Result
}

// subscribeRetry subscribes (cmd is a subscribe command) and retries while
// the answer is unavailable (Redis coming back, breaker open), for at most
// 15 s. Test goroutine only.
func (w *watcher) subscribeRetry(t *testing.T, cmd protocol.Command) protocol.SubscribeResult {
	t.Helper()
	var reply protocol.Message
	within(t, 15*time.Second, func() bool {
		var err error
		if reply, err = w.call(cmd); err != nil {
			t.Fatal(err)
		}
		if errCode(reply) != "unavailable" {
			return true
		}
		time.Sleep(100 * time.Millisecond) // a few tries a second, well within --command-rate
		return false
	}, func() string { return fmt.Sprintf("subscribe %s: %s", cmd.Channel, show(reply)) })
	return resultOf[protocol.SubscribeResult](t, reply)
}

// closed waits up to timeout for the connection to end and returns its
// close code, or -1 when it is still open.
func (w *watcher) closed(timeout time.Duration) int {
	select {
	case <-w.done:
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.code
	case <-time.After(timeout):
		return -1
	}
}

// snapshot returns what was received so far, the commands sent, and the
// lines that were no protocol.Message.
func (w *watcher) snapshot() (msgs []protocol.Message, sent map[uint64]protocol.Command, invalid []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.msgs), maps.Clone(w.sent), slices.Clone(w.invalid)
}

// clusterHTTP bounds every API call a helper makes off the test goroutine.
var clusterHTTP = &http.Client{Timeout: 10 * time.Second}

// postJSON calls POST path on g's API without failing the test; it returns
// the status and the body, checked to be JSON.
func postJSON(g *gw, path, body string) (int, json.RawMessage, error) {
	resp, err := clusterHTTP.Post("http://"+g.API+path, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !json.Valid(b) {
		return resp.StatusCode, nil, fmt.Errorf("status %d, body %q is not JSON", resp.StatusCode, b)
	}
	return resp.StatusCode, b, nil
}

// position returns ch's current offset and epoch, read through g's API.
// Test goroutine only.
func position(t *testing.T, g *gw, ch string) (uint64, string) {
	t.Helper()
	code, res := apiCall(t, g, "GET", "/api/v1/history?limit=1&channel="+url.QueryEscape(ch), "", "")
	if code != http.StatusOK {
		t.Fatalf("history %s: %d %v", ch, code, res)
	}
	h := typed[protocol.HistoryResult](t, res)
	return h.Offset, h.Epoch
}
