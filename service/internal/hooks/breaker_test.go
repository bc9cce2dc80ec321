package hooks

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"
)

func TestBreakerOpensAndRecovers(t *testing.T) {
	b := newBackend(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	f := newFixture(t, b.URL, allHooksConfig("reject", "token_then_hook"), Deps{breakerOpen: 200 * time.Millisecond})
	pub := f.route(HookPublish)

	for i := 0; i < breakerTrips; i++ {
		if a := pub.Call(bg, request(HookPublish)); !a.Failed {
			t.Fatalf("call %d: %+v, want a failure", i, a)
		}
	}
	if s := f.breakerState(t, "app"); s != 2 {
		t.Fatalf("after %d failures wsgateway_hook_breaker_state{endpoint=app} = %v, want 2 (open)", breakerTrips, s)
	}
	// Open: every hook of the endpoint fails at once, without a request.
	for _, hook := range allHooks {
		a := f.route(hook).Call(bg, request(hook))
		if !a.Failed || a.Error == nil || a.Error.Code != "unavailable" {
			t.Errorf("%s while open: %+v, want unavailable", hook, a)
		}
	}
	if n := b.n.Load(); n != breakerTrips {
		t.Errorf("backend got %d requests, want %d: an open breaker must not call it", n, breakerTrips)
	}
	if c := f.count(t, HookPublish, "breaker_open"); c != 1 {
		t.Errorf("requests_total{publish,breaker_open} = %v, want 1", c)
	}

	b.set(answer(`{"result":{}}`)) // the backend returns
	ep := pub.ep
	waitFor(t, "the breaker to half-open", func() bool { return ep.cb.State() == gobreaker.StateHalfOpen })
	if a := pub.Call(bg, request(HookPublish)); a.Failed || a.Result == nil {
		t.Fatalf("probe: %+v, want ok", a)
	}
	if s := f.breakerState(t, "app"); s != 0 {
		t.Errorf("after a good probe breaker_state = %v, want 0 (closed)", s)
	}
	if n := b.n.Load(); n != breakerTrips+1 {
		t.Errorf("backend got %d requests, want %d", n, breakerTrips+1)
	}
}

func TestBreakerHalfOpenFailureReopens(t *testing.T) {
	b := newBackend(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) })
	f := newFixture(t, b.URL, allHooksConfig("allow", "token_then_hook"), Deps{breakerOpen: 100 * time.Millisecond})
	rpc := f.route(HookRPC)
	for i := 0; i < breakerTrips; i++ {
		rpc.Call(bg, request(HookRPC))
	}
	waitFor(t, "the breaker to half-open", func() bool { return rpc.ep.cb.State() == gobreaker.StateHalfOpen })
	if a := rpc.Call(bg, request(HookRPC)); !a.Failed || a.Result == nil {
		t.Fatalf("failed probe with on_error allow: %+v, want Failed with an empty Result", a)
	}
	if s := f.breakerState(t, "app"); s != 2 {
		t.Errorf("after a failed probe breaker_state = %v, want 2 (open)", s)
	}
}

// A backend that answers error or disconnect is alive: the breaker stays closed.
func TestBreakerIgnoresVerdicts(t *testing.T) {
	b := newBackend(t, answer(`{"error":{"code":"app_no","message":""}}`))
	f := newFixture(t, b.URL, allHooksConfig("reject", "token_then_hook"), Deps{})
	for i := 0; i < 2*breakerTrips; i++ {
		f.route(HookSubscribe).Call(bg, request(HookSubscribe))
	}
	b.set(answer(`{"disconnect":{"code":4500,"reason":"banned"}}`))
	for i := 0; i < 2*breakerTrips; i++ {
		f.route(HookSubscribe).Call(bg, request(HookSubscribe))
	}
	if s := f.breakerState(t, "app"); s != 0 {
		t.Errorf("breaker_state = %v after error and disconnect answers, want 0", s)
	}
	if n := b.n.Load(); n != 4*breakerTrips {
		t.Errorf("backend got %d requests, want %d", n, 4*breakerTrips)
	}
}

// A caller that leaves (its client went away) says nothing about the backend.
func TestBreakerIgnoresCallersLeaving(t *testing.T) {
	release := make(chan struct{})
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	f := newFixture(t, b.URL, allHooksConfig("reject", "token_then_hook"), Deps{})
	for i := 0; i < 2*breakerTrips; i++ {
		ctx, cancel := context.WithCancel(bg)
		n := b.n.Load()
		go func() { // cancel once the request is in (or after 5 s, and the check below fails)
			for deadline := time.Now().Add(5 * time.Second); b.n.Load() == n && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
			cancel()
		}()
		if a := f.route(HookRPC).Call(ctx, request(HookRPC)); !a.Failed {
			t.Fatalf("abandoned call: %+v, want Failed", a)
		}
	}
	if s := f.breakerState(t, "app"); s != 0 {
		t.Errorf("breaker_state = %v after callers left, want 0", s)
	}
}

// Endpoints have a breaker each: one failing does not open another.
func TestBreakerPerEndpoint(t *testing.T) {
	bad := newBackend(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(500) })
	good := newBackend(t, answer(`{"result":{}}`))
	f := newFixture(t, bad.URL, `
endpoints:
  bad: {url: "$URL"}
  good: {url: "`+good.URL+`"}
namespaces:
  a: {publish: {endpoint: bad}}
  b: {publish: {endpoint: good}}
`, Deps{})
	for i := 0; i < breakerTrips; i++ {
		f.h.Publish("a:x").Call(bg, request(HookPublish))
	}
	if a := f.h.Publish("b:x").Call(bg, request(HookPublish)); a.Failed {
		t.Errorf("good endpoint: %+v", a)
	}
	if s, g := f.breakerState(t, "bad"), f.breakerState(t, "good"); s != 2 || g != 0 {
		t.Errorf("breaker_state bad=%v good=%v, want 2 and 0", s, g)
	}
}
