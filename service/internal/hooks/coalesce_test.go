package hooks

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

const connectOnly = `
endpoints:
  app: {url: "$URL"}
connect: {endpoint: app, mode: hook}
`

// A reconnect storm: N identical connect calls at once reach the backend once.
func TestCoalesceConcurrentConnects(t *testing.T) {
	const n = 200
	release := make(chan struct{})
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		answer(`{"result":{"user":"alice","meta":{"s":1}}}`)(w, r)
	})
	f := newFixture(t, b.URL, connectOnly, Deps{})
	c := f.h.Connect()
	answers := make([]Answer, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = c.Call(bg, Request{Client: fmt.Sprintf("c%d", i), CoalesceKey: "token-hash"})
		}()
	}
	waitFor(t, "the first backend request", func() bool { return b.n.Load() >= 1 })
	close(release)
	wg.Wait()
	if got := b.n.Load(); got != 1 {
		t.Errorf("backend got %d connect calls for %d identical connects, want 1", got, n)
	}
	for i, a := range answers {
		if a.Failed || a.Result == nil || a.Result.User != "alice" || string(a.Result.Meta) != `{"s":1}` {
			t.Fatalf("answer %d: %+v", i, a)
		}
	}
	if answers[0].Result == answers[1].Result {
		t.Error("callers share one *Result: each must get its own")
	}
	if got := b.seen()[0].Body["client"]; got == nil || got == "" {
		t.Errorf("the shared call carried client %v, want one caller's id", got)
	}
	if c := f.count(t, HookConnect, "ok"); c != 1 {
		t.Errorf("requests_total{connect,ok} = %v, want 1 (backend calls, not callers)", c)
	}
}

// Different keys, or none, are never coalesced.
func TestCoalesceOnlySameKey(t *testing.T) {
	b := newBackend(t, answer(`{"result":{}}`))
	f := newFixture(t, b.URL, connectOnly, Deps{})
	c := f.h.Connect()
	c.Call(bg, Request{CoalesceKey: "a"})
	c.Call(bg, Request{CoalesceKey: "b"})
	c.Call(bg, Request{})
	c.Call(bg, Request{})
	if got := b.n.Load(); got != 4 {
		t.Errorf("backend got %d calls, want 4", got)
	}
}

// The cache: a positive answer for 5 s at most, never past the token's exp
// nor the answer's expire_at; refusals are not cached. The clock is the
// coalescer's own, so nothing here waits.
func TestConnectCache(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name     string
		answer   string
		exp      time.Time     // the token's
		cachedTo time.Duration // from t0; 0: never cached
	}{
		{"default ttl", `{"result":{}}`, time.Time{}, cacheTTL},
		{"token expires first", `{"result":{}}`, t0.Add(2 * time.Second), 2 * time.Second},
		{"token expires later", `{"result":{}}`, t0.Add(time.Hour), cacheTTL},
		{"answer expires first", `{"result":{"expire_at":1800000003}}`, time.Time{}, 3 * time.Second},
		{"token already expired", `{"result":{}}`, t0.Add(-time.Second), 0},
		{"error", `{"error":{"code":"unauthorized","message":""}}`, time.Time{}, 0},
		{"disconnect", `{"disconnect":{"code":4500,"reason":""}}`, time.Time{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBackend(t, answer(tt.answer))
			f := newFixture(t, b.URL, connectOnly, Deps{})
			c := f.h.Connect()
			now := t0
			c.coalesce.now = func() time.Time { return now }
			req := Request{CoalesceKey: "k", ExpiresAt: tt.exp}
			c.Call(bg, req)
			calls := int64(1)
			if tt.cachedTo > 0 {
				now = t0.Add(tt.cachedTo - time.Millisecond)
				c.Call(bg, req)
				if got := b.n.Load(); got != 1 {
					t.Errorf("just before %s: backend got %d calls, want 1 (cached)", tt.cachedTo, got)
				}
				now = t0.Add(tt.cachedTo)
			}
			c.Call(bg, req)
			calls++
			if got := b.n.Load(); got != calls {
				t.Errorf("at %s: backend got %d calls, want %d (not cached)", now.Sub(t0), got, calls)
			}
		})
	}
}

func TestCacheBounded(t *testing.T) {
	c := newCoalescer()
	ok := Answer{Result: &Result{}}
	for i := range cacheSize + 10 {
		c.put(fmt.Sprint(i), ok, time.Time{})
	}
	c.put("0", ok, time.Time{}) // evicted, put again: now the newest
	for i := range 100 * cacheSize {
		c.put("same", ok, time.Time{}) // one key again and again must not grow the queue
		_ = i
	}
	if len(c.cache) != cacheSize {
		t.Errorf("%d entries, want %d", len(c.cache), cacheSize)
	}
	if len(c.order) > 2*cacheSize {
		t.Errorf("order queue of %d items for %d entries", len(c.order), len(c.cache))
	}
	for key, want := range map[string]bool{"1": false, "11": false, "12": true, "0": true, "same": true, fmt.Sprint(cacheSize + 9): true} {
		if _, got := c.get(key); got != want {
			t.Errorf("key %s cached = %v, want %v (the oldest go first)", key, got, want)
		}
	}
}

// The first caller leaving does not fail the others waiting on its call.
func TestCoalesceFirstCallerLeaves(t *testing.T) {
	release := make(chan struct{})
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		answer(`{"result":{"user":"alice"}}`)(w, r)
	})
	f := newFixture(t, b.URL, connectOnly, Deps{})
	c := f.h.Connect()
	ctx, cancel := context.WithCancel(bg)
	first := make(chan Answer)
	go func() { first <- c.Call(ctx, Request{Client: "a", CoalesceKey: "k"}) }()
	waitFor(t, "the backend request", func() bool { return b.n.Load() == 1 })
	second := make(chan Answer)
	go func() { second <- c.Call(bg, Request{Client: "b", CoalesceKey: "k"}) }()
	cancel()
	if a := <-first; !a.Failed || a.Error == nil {
		t.Errorf("the caller that left: %+v, want unavailable", a)
	}
	close(release)
	if a := <-second; a.Failed || a.Result == nil || a.Result.User != "alice" {
		t.Errorf("the caller that waited: %+v, want alice", a)
	}
	if n := b.n.Load(); n != 1 {
		t.Errorf("backend got %d calls, want 1", n)
	}
}
