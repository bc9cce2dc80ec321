package hooks

import (
	"net/http"
	"sync/atomic"
	"testing"
)

// TestCallNotReplayedOnALostAnswer: a backend that runs a call and closes
// the connection without answering gets that call once. net/http would
// otherwise send a request with an Idempotency-Key again on its own when
// the connection was a reused keep-alive one; the gateway makes one
// attempt and reports the failure.
func TestCallNotReplayedOnALostAnswer(t *testing.T) {
	var calls atomic.Int64
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) != 2 {
			answer(`{"result":{}}`)(w, r)
			return
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		conn.Close() // the action ran; its answer is lost
	})
	f := newFixture(t, b.URL, allHooksConfig("reject", "token_then_hook"), Deps{})
	route := f.route(HookPublish)
	if a := route.Call(bg, request(HookPublish)); a.Failed {
		t.Fatalf("first call failed: %+v", a)
	}
	// The first call left an idle keep-alive connection, which this one reuses.
	if a := route.Call(bg, request(HookPublish)); !a.Failed {
		t.Errorf("call whose answer was lost: %+v, want a failure", a)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("the backend got %d calls for 2 actions, want 2 (no hidden replay)", n)
	}
}
