package session

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wsgateway/wsgateway/service/internal/hooks"
)

// hookCall is one call the backend received.
type hookCall struct {
	hook string
	body map[string]json.RawMessage
	key  string // the Idempotency-Key header
}

// field returns a body field as compact JSON text ("null" when absent).
func (c hookCall) field(name string) string {
	if v, ok := c.body[name]; ok {
		return string(v)
	}
	return "null"
}

// backend is a real HTTP backend for the hooks, started by the test. Its
// answer function gives the status and body of each call; a hook named in
// hold waits, until release, with its arrival reported on arrived.
type backend struct {
	srv     *httptest.Server
	answer  func(c hookCall) (status int, body string)
	arrived chan string
	// cancelled gets the hook of each held call whose request ended
	// before it was released (the gateway gave up on it).
	cancelled chan string

	mu    sync.Mutex
	calls []hookCall
	holds map[string]chan struct{}
}

func newBackend(t *testing.T, answer func(c hookCall) (int, string)) *backend {
	t.Helper()
	b := &backend{answer: answer, arrived: make(chan string, 256), cancelled: make(chan string, 256),
		holds: map[string]chan struct{}{}}
	b.srv = httptest.NewServer(http.HandlerFunc(b.serve))
	t.Cleanup(b.srv.Close)
	t.Cleanup(b.releaseAll) // before Close, which waits for held calls
	return b
}

func (b *backend) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	c := hookCall{hook: strings.TrimPrefix(r.URL.Path, "/"), key: r.Header.Get("Idempotency-Key")}
	if err := json.Unmarshal(raw, &c.body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	b.calls = append(b.calls, c)
	hold := b.holds[c.hook]
	b.mu.Unlock()
	b.arrived <- c.hook
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			b.cancelled <- c.hook
			return
		}
	}
	status, body := b.answer(c)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// hold makes calls of hook wait until release.
func (b *backend) hold(hook string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.holds[hook] = make(chan struct{})
}

func (b *backend) release(hook string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if ch := b.holds[hook]; ch != nil {
		close(ch)
		delete(b.holds, hook)
	}
}

func (b *backend) releaseAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for h, ch := range b.holds {
		close(ch)
		delete(b.holds, h)
	}
}

// waitCall waits for a call of hook to arrive.
func (b *backend) waitCall(t *testing.T, hook string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case h := <-b.arrived:
			if h == hook {
				return
			}
		case <-deadline:
			t.Fatalf("no %s hook call arrived", hook)
		}
	}
}

// received returns the calls so far.
func (b *backend) received() []hookCall {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]hookCall(nil), b.calls...)
}

// callsOf returns the calls of one hook so far.
func (b *backend) callsOf(hook string) []hookCall {
	var out []hookCall
	for _, c := range b.received() {
		if c.hook == hook {
			out = append(out, c)
		}
	}
	return out
}

// hooksFor loads a hooks file whose {url} is the backend's, as the node does
// (hooks.Load, then hooks.New with metrics of their own).
func hooksFor(t *testing.T, b *backend, yaml string) *hooks.Hooks {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hooks.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(yaml, "{url}", b.srv.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := hooks.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := hooks.New(cfg, hooks.Deps{Log: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry(),
		Node: "node-a", Zone: "zone-a"})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// expect reads the client's next events and fails unless they are want,
// in order; server pings in between are skipped unless wanted. Each event
// is waited for at most 10 s: a bound on a hang, not a timing assertion.
func (p *peer) expect(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		for {
			var e string
			select {
			case e = <-p.events:
			case <-time.After(10 * time.Second):
				t.Fatalf("waited in vain for %q", w)
			}
			if e == "ping" && w != "ping" {
				continue
			}
			if e != w {
				t.Fatalf("client read %q, want %q", e, w)
			}
			break
		}
	}
}

// withData summarizes line as summarize does, followed by the data of a
// result (or of a push) when it has some: `ok 3 data={"a":1}`.
func withData(line []byte) string {
	var m struct {
		Result *struct {
			Data json.RawMessage `json:"data"`
		} `json:"result"`
		Data json.RawMessage `json:"data"`
	}
	s := summarize(line)
	if json.Unmarshal(line, &m) != nil {
		return s
	}
	switch {
	case m.Result != nil && m.Result.Data != nil:
		return fmt.Sprintf("%s data=%s", s, m.Result.Data)
	case m.Data != nil:
		return fmt.Sprintf("%s data=%s", s, m.Data)
	}
	return s
}

func rpcCmd(id int, method, data string) string {
	if data == "" {
		return fmt.Sprintf(`{"id":%d,"op":"rpc","method":%q}`, id, method)
	}
	return fmt.Sprintf(`{"id":%d,"op":"rpc","method":%q,"data":%s}`, id, method, data)
}
