package hooks

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// backend is a real HTTP hook backend on loopback that records what it
// receives and answers with its current handler.
type backend struct {
	*httptest.Server
	n       atomic.Int64 // requests received
	mu      sync.Mutex
	last    []seen
	handler atomic.Pointer[http.HandlerFunc]
}

type seen struct {
	Path   string
	Header http.Header
	Body   map[string]any
}

func newBackend(t testing.TB, h http.HandlerFunc) *backend {
	t.Helper()
	b := &backend{}
	b.set(h)
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		b.mu.Lock()
		b.last = append(b.last, seen{r.URL.Path, r.Header.Clone(), body})
		b.mu.Unlock()
		b.n.Add(1)
		(*b.handler.Load())(w, r)
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *backend) set(h http.HandlerFunc) { b.handler.Store(&h) }

func (b *backend) seen() []seen {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]seen(nil), b.last...)
}

// answer is a handler that answers 200 with body.
func answer(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	}
}

// fixture is a Hooks built from a config whose endpoint "app" is url.
type fixture struct {
	h   *Hooks
	reg *prometheus.Registry
}

// newFixture loads cfg (with $URL replaced by url) and builds the Hooks.
func newFixture(t testing.TB, url, cfg string, d Deps) *fixture {
	t.Helper()
	c := loadString(t, strings.ReplaceAll(cfg, "$URL", url))
	reg := prometheus.NewRegistry()
	d.Registry = reg
	h, err := New(c, d)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{h: h, reg: reg}
}

// allHooksConfig routes every hook to the endpoint app, on_error as given.
func allHooksConfig(onError, mode string) string {
	return `
endpoints:
  app: {url: "$URL", timeout: 500ms}
connect: {endpoint: app, mode: ` + mode + `, on_error: ` + onError + `, forward_headers: [Cookie]}
namespaces:
  chat:
    subscribe: {endpoint: app, on_error: ` + onError + `}
    publish: {endpoint: app, on_error: ` + onError + `}
rpc:
  billing: {endpoint: app, on_error: ` + onError + `}
`
}

// route returns the fixture's route of hook.
func (f *fixture) route(hook string) *Route {
	switch hook {
	case HookConnect:
		return f.h.Connect().Route
	case HookSubscribe:
		return f.h.Subscribe("chat:room")
	case HookPublish:
		return f.h.Publish("chat:room")
	}
	return f.h.RPC("billing:charge")
}

func (f *fixture) count(t *testing.T, hook, result string) float64 {
	return value(t, f.h.m.requests.WithLabelValues(hook, result))
}

func (f *fixture) breakerState(t *testing.T, endpoint string) float64 {
	return value(t, f.h.m.breakerState.WithLabelValues(endpoint))
}

// request is a plausible request of hook.
func request(hook string) Request {
	r := Request{Client: "c1", User: "alice", Meta: json.RawMessage(`{"tier":"gold"}`)}
	switch hook {
	case HookConnect:
		r.Headers = map[string]string{"Cookie": "sid=1"}
		r.Claims = json.RawMessage(`{"sub":"alice"}`)
	case HookSubscribe:
		r.Channel = "chat:room"
	case HookPublish:
		r.Channel, r.Data, r.IdempotencyKey = "chat:room", json.RawMessage(`{"text":"hi"}`), "k1"
	case HookRPC:
		r.Method, r.Data = "billing:charge", json.RawMessage(`{"amount":3}`)
	}
	return r
}

// waitFor polls cond for up to 10 s: for state that changes on its own
// (a breaker leaving open), never to assert how long it took.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var bg = context.Background()

// value reads a counter's or gauge's current value.
func value(t *testing.T, c prometheus.Metric) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}
