package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/wsgateway/wsgateway/examples/backend"
	"github.com/wsgateway/wsgateway/service/gatewaytest"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// dropProxy is a real HTTP proxy between the gateway and a backend that
// loses one answer: it forwards the request the test armed it for, lets the
// backend process it, then closes the gateway's connection without a
// response, as a mesh hop that dies mid-call would. Every other request is
// forwarded as is. It records each request's Idempotency-Key and body.
type dropProxy struct {
	srv     *httptest.Server
	backend string // the backend's base URL

	mu   sync.Mutex
	drop bool // drop the next request's answer
	seen []proxied
}

type proxied struct {
	path, key string
	body      map[string]json.RawMessage
	dropped   bool
}

func startDropProxy(t *testing.T, backendURL string) *dropProxy {
	t.Helper()
	p := &dropProxy{backend: backendURL}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *dropProxy) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]json.RawMessage
	_ = json.Unmarshal(raw, &body)
	p.mu.Lock()
	drop := p.drop
	p.drop = false
	p.seen = append(p.seen, proxied{path: r.URL.Path, key: r.Header.Get("Idempotency-Key"), body: body, dropped: drop})
	p.mu.Unlock()

	req, err := http.NewRequestWithContext(r.Context(), r.Method, p.backend+r.URL.Path, bytes.NewReader(raw))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if drop {
		// The backend has run the action; its answer is lost on the way.
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
}

// dropNext arms the proxy to lose the next answer.
func (p *dropProxy) dropNext() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drop = true
}

func (p *dropProxy) requests() []proxied {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]proxied(nil), p.seen...)
}

// TestHookIdempotencyThroughALostAnswer: the real binary calls the
// reference backend's publish hook through a proxy that loses the answer
// to one call after the backend ran it. The gateway makes that one attempt
// only (no retry of its own, though its connection to the proxy was a
// reused keep-alive one), so the client's publish fails with unavailable;
// the client retries it with the same idempotency_key, and the backend
// sees the same Idempotency-Key on both calls and runs the publish once,
// and history holds the publication once.
func TestHookIdempotencyThroughALostAnswer(t *testing.T) {
	t.Parallel()
	ref := backend.New(backend.Options{})
	refSrv := httptest.NewServer(ref)
	t.Cleanup(refSrv.Close)
	proxy := startDropProxy(t, refSrv.URL)
	hooks := writeHooks(t, `endpoints:
  app: {url: "`+proxy.srv.URL+`/wsgateway", timeout: 2s}
namespaces:
  chat:
    publish: {endpoint: app, on_error: reject}
`)
	g := gatewaytest.Start(t, gatewaytest.Options{Args: []string{"--jwt-secret", testSecret, "--hooks-config", hooks}})
	c := connected(t, g, token(t, "alice", 0, []string{"chat:*"}, []string{"chat:*"}))
	c.result(c.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "chat:room"}))

	// A first publish goes through, so the gateway's connection to the
	// proxy is an idle keep-alive one when the answer is lost.
	c.result(c.call(protocol.Command{Op: protocol.OpPublish, Channel: "chat:room", Data: json.RawMessage(`"warm up"`)}))
	if p := c.next(); p.Push != protocol.PushPub || p.Offset != 1 {
		t.Fatalf("got %s, want the first publication", show(p))
	}

	pub := protocol.Command{Op: protocol.OpPublish, Channel: "chat:room", Data: json.RawMessage(`"once"`), IdempotencyKey: "msg-42"}
	proxy.dropNext()
	if m := c.call(pub); errCode(m) != protocol.CodeUnavailable {
		t.Fatalf("publish whose hook answer was lost: %s, want unavailable", show(m))
	}
	pos := resultOf[protocol.Position](t, c.call(pub))
	if p := c.next(); p.Push != protocol.PushPub || p.Offset != pos.Offset || string(p.Data) != `"once"` {
		t.Fatalf("got %s, want the retried publication at offset %d", show(p), pos.Offset)
	}
	c.quiet()

	reqs := proxy.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d hook calls reached the proxy, want 3 (warm-up, lost, retried): %+v", len(reqs), reqs)
	}
	lost, retried := reqs[1], reqs[2]
	if !lost.dropped || lost.key == "" || lost.key != retried.key {
		t.Errorf("Idempotency-Key %q (lost answer) then %q (client's retry), want one non-empty key", lost.key, retried.key)
	}
	if reqs[0].key == lost.key {
		t.Errorf("the warm-up publish (no idempotency_key) and msg-42 share the key %q", lost.key)
	}
	for _, r := range reqs[1:] {
		if k := string(r.body["idempotency_key"]); k != `"msg-42"` {
			t.Errorf("body idempotency_key %s, want the client's \"msg-42\"", k)
		}
	}
	if got, ran := ref.Received("publish"), ref.Processed("publish"); got != 3 || ran != 2 {
		t.Errorf("backend received %d publish calls and ran %d, want 3 and 2 (the retry answered from the first run)", got, ran)
	}
	hist := resultOf[protocol.HistoryResult](t, c.call(protocol.Command{Op: protocol.OpHistory, Channel: "chat:room"}))
	var once int
	for _, p := range hist.Publications {
		if strings.Contains(string(p.Data), "once") {
			once++
		}
	}
	if once != 1 || len(hist.Publications) != 2 {
		t.Errorf("history %d publications, %d of them the retried one; want 2 and 1", len(hist.Publications), once)
	}
}
