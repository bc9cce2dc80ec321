package hooks

import (
	"net/http"
	"testing"
)

// BenchmarkCallLocal is one publish hook call to a loopback backend with
// the breaker closed: the cost a hook adds to a publish, network included.
func BenchmarkCallLocal(b *testing.B) {
	be := newBackend(b, answer(`{"result":{"data":{"text":"ok"}}}`))
	f := newFixture(b, be.URL, allHooksConfig("reject", "token_then_hook"), Deps{})
	r := f.route(HookPublish)
	req := request(HookPublish)
	b.ReportAllocs()
	for b.Loop() {
		if a := r.Call(bg, req); a.Failed {
			b.Fatalf("%+v", a)
		}
	}
}

// BenchmarkCallBreakerOpen is a call while the endpoint's breaker is open:
// it must answer in well under 1 ms without touching the backend.
func BenchmarkCallBreakerOpen(b *testing.B) {
	be := newBackend(b, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(500) })
	f := newFixture(b, be.URL, allHooksConfig("reject", "token_then_hook"), Deps{})
	r := f.route(HookPublish)
	req := request(HookPublish)
	for range breakerTrips {
		r.Call(bg, req)
	}
	n := be.n.Load()
	b.ReportAllocs()
	for b.Loop() {
		if a := r.Call(bg, req); !a.Failed {
			b.Fatalf("%+v", a)
		}
	}
	if be.n.Load() != n {
		b.Fatalf("the backend was called while the breaker was open")
	}
}
