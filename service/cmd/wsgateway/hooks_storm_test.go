package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgateway/wsgateway/service/gatewaytest"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// stormBackend is a connect hook that answers after a short delay, and
// counts its calls per user (one token per user), with how many of one
// user's calls were in flight at once.
type stormBackend struct {
	srv   *httptest.Server
	delay time.Duration

	mu       sync.Mutex
	calls    map[string]int
	inFlight map[string]int
	maxAtOne map[string]int
}

func startStormBackend(t *testing.T, delay time.Duration) *stormBackend {
	t.Helper()
	b := &stormBackend{delay: delay, calls: map[string]int{}, inFlight: map[string]int{}, maxAtOne: map[string]int{}}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body struct {
			User string `json:"user"`
		}
		_ = json.Unmarshal(raw, &body)
		b.mu.Lock()
		b.calls[body.User]++
		b.inFlight[body.User]++
		b.maxAtOne[body.User] = max(b.maxAtOne[body.User], b.inFlight[body.User])
		b.mu.Unlock()
		select {
		case <-time.After(b.delay):
		case <-r.Context().Done():
		}
		b.mu.Lock()
		b.inFlight[body.User]--
		b.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"result":{"data":{"ok":true}}}`)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

// TestHookReconnectStorm: 1,000 clients of 20 users (one token each) send
// connect at once to the real binary with a token_then_hook connect hook
// whose backend answers after 200 ms. Every client is connected, and the
// backend is called at most once per token at a time (identical calls in
// flight are coalesced) and once per token per 5 s cache window: far fewer
// calls than clients.
func TestHookReconnectStorm(t *testing.T) {
	t.Parallel()
	const clients, users, workers = 1000, 20, 64
	b := startStormBackend(t, 200*time.Millisecond)
	hooks := writeHooks(t, `endpoints:
  app: {url: "`+b.srv.URL+`/hooks", timeout: 5s}
connect: {endpoint: app, mode: token_then_hook}
`)
	g := gatewaytest.Start(t, gatewaytest.Options{Args: []string{
		"--jwt-secret", testSecret, "--hooks-config", hooks, "--connect-rate", "0",
		"--max-connections", "5000", "--drain-delay", "0s", "--drain-window", "0s",
	}})
	tokens := make([]string, users)
	for i := range tokens {
		tokens[i] = token(t, fmt.Sprintf("u%02d", i), time.Hour, []string{"*"}, nil)
	}

	// Open every WebSocket first (bounded goroutines), then send every
	// connect together, so that the 1,000 connects are in flight at once.
	conns := make([]*websocket.Conn, clients)
	t.Cleanup(func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	})
	errs := forEach(clients, workers, func(i int) error {
		c, _, err := dialRaw(g, nil)
		conns[i] = c
		return err
	})
	if len(errs) > 0 {
		t.Fatalf("%d of %d dials failed, first: %v", len(errs), clients, errs[0])
	}
	started := time.Now()
	errs = forEach(clients, workers, func(i int) error {
		cmd := fmt.Sprintf(`{"id":1,"op":"connect","token":%q}`, tokens[i%users])
		return conns[i].WriteMessage(websocket.TextMessage, []byte(cmd))
	})
	if len(errs) > 0 {
		t.Fatalf("%d connect commands not sent, first: %v", len(errs), errs[0])
	}
	errs = forEach(clients, workers, func(i int) error {
		_ = conns[i].SetReadDeadline(time.Now().Add(30 * time.Second))
		_, raw, err := conns[i].ReadMessage()
		if err != nil {
			return fmt.Errorf("client %d: %w", i, err)
		}
		var m protocol.Message
		if err := decodeStrict(raw, &m); err != nil || m.ID != 1 || m.Error != nil {
			return fmt.Errorf("client %d got %s (%v), want the connect result", i, raw, err)
		}
		var res protocol.ConnectResult
		if err := decodeStrict(m.Result, &res); err != nil || res.User != fmt.Sprintf("u%02d", i%users) || string(res.Data) != `{"ok":true}` {
			return fmt.Errorf("client %d: connect result %s (%v)", i, m.Result, err)
		}
		return nil
	})
	elapsed := time.Since(started)
	if len(errs) > 0 {
		t.Fatalf("%d of %d clients not connected, first: %v", len(errs), clients, errs[0])
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	windows := int(elapsed/(5*time.Second)) + 1 // the positive cache lasts 5 s
	total := 0
	for i := range users {
		u := fmt.Sprintf("u%02d", i)
		total += b.calls[u]
		if b.maxAtOne[u] != 1 {
			t.Errorf("user %s: %d connect hook calls in flight at once, want 1 (coalesced)", u, b.maxAtOne[u])
		}
		if b.calls[u] > windows {
			t.Errorf("user %s: %d connect hook calls in %v, want at most %d (one per 5 s cache window)", u, b.calls[u], elapsed, windows)
		}
	}
	t.Logf("%d clients of %d users connected in %v with %d connect hook calls", clients, users, elapsed.Round(time.Millisecond), total)
	if total > clients/10 {
		t.Errorf("%d connect hook calls for %d clients of %d users, want far fewer", total, clients, users)
	}
	if got := metric(t, g, "hook_requests_total hook=connect result=ok"); got != float64(total) {
		t.Errorf("hook_requests_total{connect,ok} %v, want the %d calls the backend saw", got, total)
	}
	if got := metric(t, g, "connections"); got != clients {
		t.Errorf("connections gauge %v, want %d", got, clients)
	}
}

// forEach runs f(0..n-1) on at most workers goroutines and returns the
// errors it gave.
func forEach(n, workers int, f func(i int) error) []error {
	next := make(chan int)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return errs
}
