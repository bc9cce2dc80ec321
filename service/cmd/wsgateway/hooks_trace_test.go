package main

import (
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/wsgateway/wsgateway/examples/backend"
	"github.com/wsgateway/wsgateway/service/gatewaytest"
	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// TestHookTraceFromClientToEveryNode: two real binaries on Redis, a publish
// hook on the reference backend. A client's publish on node a makes one
// trace: the command's span on a, the hook call's client span (its child,
// whose traceparent the backend received) and a delivery span on each node
// that has a subscriber, a and b.
func TestHookTraceFromClientToEveryNode(t *testing.T) {
	t.Parallel()
	recv := startReceiver(t)
	env := recv.env()
	ref := backend.New(backend.Options{})
	var mu sync.Mutex
	var traceparents []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		traceparents = append(traceparents, r.Header.Get("Traceparent"))
		mu.Unlock()
		ref.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	hooks := writeHooks(t, `endpoints:
  app: {url: "`+srv.URL+`/wsgateway"}
namespaces:
  chat:
    publish: {endpoint: app}
`)
	redis := redistest.Start(t, redistest.Options{})
	start := func(id string) *gw {
		return gatewaytest.Start(t, gatewaytest.Options{Env: env, Args: []string{
			"--dev", "--redis-url", redis.URL(), "--node-id", id, "--hooks-config", hooks,
		}})
	}
	a, b := start("a"), start("b")
	subA, subB := connected(t, a, ""), connected(t, b, "")
	for _, s := range []*wsConn{subA, subB} {
		s.result(s.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "chat:room"}))
	}
	pub := connected(t, a, "")
	pub.result(pub.call(protocol.Command{Op: protocol.OpPublish, Channel: "chat:room", Data: json.RawMessage(`"traced"`)}))
	for _, s := range []*wsConn{subA, subB} {
		if p := s.next(); p.Push != protocol.PushPub || string(p.Data) != `"traced"` {
			t.Fatalf("subscriber got %s, want the publication", show(p))
		}
	}

	mu.Lock()
	if len(traceparents) != 1 {
		mu.Unlock()
		t.Fatalf("backend got %d publish hook calls, want 1", len(traceparents))
	}
	tp := strings.Split(traceparents[0], "-")
	mu.Unlock()
	if len(tp) != 4 || len(tp[1]) != 32 {
		t.Fatalf("backend got traceparent %q, want a W3C one", traceparents[0])
	}
	traceID, hookSpanID := tp[1], tp[2]
	cmd := recv.find(t, traceID, "a", "publish chat")
	hook := recv.find(t, traceID, "a", "hook publish")
	if got := hex.EncodeToString(hook.SpanId); got != hookSpanID {
		t.Errorf("the backend's traceparent names span %s, the hook span is %s", hookSpanID, got)
	}
	if !equalBytes(hook.ParentSpanId, cmd.SpanId) {
		t.Errorf("the hook span is not a child of the client's publish span")
	}
	for _, node := range []string{"a", "b"} {
		del := recv.find(t, traceID, node, "deliver chat")
		if !equalBytes(del.ParentSpanId, cmd.SpanId) {
			t.Errorf("delivery span on %s is not a child of the publish span", node)
		}
	}
}
