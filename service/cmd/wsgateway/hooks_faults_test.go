package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// faultShape is how a faultBackend answers every hook call.
type faultShape string

const (
	shapeOK      faultShape = "ok"      // {"result":{}}
	shapeDown    faultShape = "down"    // nothing listens on the port (connection refused)
	shapeSlow    faultShape = "slow"    // no answer until the gateway gives up (past its timeout)
	shape500     faultShape = "500"     // HTTP 500 with a well-formed result body
	shapeGarbage faultShape = "garbage" // HTTP 200, not JSON
	shapeBig     faultShape = "2MiB"    // HTTP 200, a valid result of 2 MiB (over the 1 MiB bound)
)

// faultBackend is a real HTTP hook backend on a fixed 127.0.0.1 port whose
// answers the test switches between healthy and one failure shape. Down
// closes its listener and every connection; back up listens on the same
// port again, as a restarted backend would.
type faultBackend struct {
	t     *testing.T
	addr  string
	shape atomic.Value // faultShape
	calls atomic.Int64 // hook calls that reached the handler

	mu  sync.Mutex
	srv *http.Server // nil while down
}

func startFaultBackend(t *testing.T) *faultBackend {
	t.Helper()
	b := &faultBackend{t: t, addr: "127.0.0.1:0"}
	b.shape.Store(shapeOK)
	b.listen()
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.srv != nil {
			_ = b.srv.Close()
		}
	})
	return b
}

// URL is the hooks' base URL.
func (b *faultBackend) URL() string { return "http://" + b.addr + "/hooks" }

func (b *faultBackend) listen() {
	b.t.Helper()
	l, err := net.Listen("tcp", b.addr)
	if err != nil {
		b.t.Fatalf("fault backend: listen on %s: %v", b.addr, err)
	}
	b.addr = l.Addr().String()
	srv := &http.Server{Handler: http.HandlerFunc(b.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	b.srv = srv
}

// set switches the backend to shape; down closes the port, any other shape
// reopens it if it was down.
func (b *faultBackend) set(shape faultShape) {
	b.t.Helper()
	b.shape.Store(shape)
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case shape == shapeDown && b.srv != nil:
		_ = b.srv.Close()
		b.srv = nil
	case shape != shapeDown && b.srv == nil:
		b.listen()
	}
}

func (b *faultBackend) serve(w http.ResponseWriter, r *http.Request) {
	b.calls.Add(1)
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	switch b.shape.Load().(faultShape) {
	case shapeSlow:
		// Held until the gateway gives up on the call (its timeout): the
		// test never waits on this answer.
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
		_, _ = io.WriteString(w, `{"result":{}}`)
	case shape500:
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, `{"result":{}}`)
	case shapeGarbage:
		_, _ = io.WriteString(w, `<html>502 Bad Gateway</html>`)
	case shapeBig:
		_, _ = io.WriteString(w, `{"result":{"data":"`+strings.Repeat("x", 2<<20)+`"}}`)
	default:
		_, _ = io.WriteString(w, `{"result":{}}`)
	}
}

// writeHooks writes a hooks file with the given YAML and returns its path.
func writeHooks(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hooks.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// faultHooks is the hooks file of the failure tests: a connect hook that
// rejects on failure, a publish hook that rejects (namespace strict) and
// one that lets the publish through (namespace lax), all on one endpoint
// and so one breaker.
func faultHooks(t *testing.T, url string) string {
	return writeHooks(t, `endpoints:
  app: {url: "`+url+`", timeout: 500ms}
connect: {endpoint: app, mode: token_then_hook, on_error: reject}
namespaces:
  strict:
    publish: {endpoint: app, on_error: reject}
  lax:
    publish: {endpoint: app, on_error: allow}
`)
}
