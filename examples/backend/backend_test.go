package backend

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// newServer serves a Backend with the sessions, banned and masked words the cases use, as the
// gateway reaches it: under a path prefix.
func newServer(t *testing.T) (*Backend, *httptest.Server) {
	t.Helper()
	b := New(Options{
		Sessions: map[string]string{"s-alice": "alice", "s-bob": "bob"},
		Banned:   []string{"spam"},
		Masked:   []string{"darn"},
	})
	mux := http.NewServeMux()
	mux.Handle("/wsgateway/", b)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return b, srv
}

// post sends one hook call and returns the status and the decoded answer.
func post(t *testing.T, srv *httptest.Server, hook, key string, body any) (int, map[string]any) {
	t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/wsgateway/"+hook, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var answer map[string]any
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, &answer); err != nil {
			t.Fatalf("answer %q: %v", raw, err)
		}
		if len(answer) != 1 {
			t.Fatalf("answer %s: want exactly one of result, error, disconnect", raw)
		}
	}
	return resp.StatusCode, answer
}

// body is a hook body with the fields every hook has (CONTRACT §6) and the hook's own.
func body(hook string, user any, fields map[string]any) map[string]any {
	b := map[string]any{"hook": hook, "client": "c1", "node": "n1", "zone": "z1", "user": user, "meta": nil}
	for k, v := range fields {
		b[k] = v
	}
	return b
}

func TestHooks(t *testing.T) {
	cases := []struct {
		name string
		hook string
		body map[string]any
		want map[string]any
	}{
		{"connect by session cookie", "connect", body("connect", nil, map[string]any{
			"headers": map[string]string{"Cookie": "theme=dark; session=s-alice"}, "claims": nil}),
			map[string]any{"result": map[string]any{"user": "alice", "subscribe": []any{"chat:*"}, "publish": []any{"chat:*"},
				"meta": map[string]any{"session": "s-alice"}, "data": map[string]any{"name": "alice"}}}},
		{"connect with a token and a session keeps the token's user", "connect", body("connect", "alice", map[string]any{
			"headers": map[string]string{"cookie": "session=s-alice"}, "claims": map[string]any{"sub": "alice"}}),
			map[string]any{"result": map[string]any{"subscribe": []any{"chat:*"}, "publish": []any{"chat:*"},
				"meta": map[string]any{"session": "s-alice"}, "data": map[string]any{"name": "alice"}}}},
		{"connect with a token and no session", "connect", body("connect", "carol", map[string]any{"headers": map[string]string{}}),
			map[string]any{"result": map[string]any{}}},
		{"connect with an unknown session", "connect", body("connect", nil, map[string]any{
			"headers": map[string]string{"Cookie": "session=forged"}}),
			map[string]any{"error": map[string]any{"code": "unauthorized", "message": "no session: sign in first"}}},
		{"subscribe", "subscribe", body("subscribe", "alice", map[string]any{"channel": "chat:lobby", "data": nil}),
			map[string]any{"result": map[string]any{"data": map[string]any{"room": "chat:lobby", "messages": 0.0}}}},
		{"subscribe before signing in", "subscribe", body("subscribe", nil, map[string]any{"channel": "chat:lobby"}),
			map[string]any{"error": map[string]any{"code": "permission_denied", "message": "sign in to join chat:lobby"}}},
		{"publish of a clean message goes ahead unchanged", "publish", body("publish", "alice", map[string]any{
			"channel": "chat:lobby", "data": map[string]any{"text": "hello"}, "idempotency_key": nil}),
			map[string]any{"result": map[string]any{}}},
		{"publish with a banned word", "publish", body("publish", "alice", map[string]any{
			"channel": "chat:lobby", "data": map[string]any{"text": "buy SPAM now"}}),
			map[string]any{"error": map[string]any{"code": "app_banned_word", "message": `messages may not contain "spam"`}}},
		{"publish with a masked word is rewritten, other fields kept", "publish", body("publish", "alice", map[string]any{
			"channel": "chat:lobby", "data": map[string]any{"text": "Darn it", "color": "red"}}),
			map[string]any{"result": map[string]any{"data": map[string]any{"text": "**** it", "color": "red"}}}},
		{"publish of a string", "publish", body("publish", "alice", map[string]any{"channel": "chat:lobby", "data": "oh darn"}),
			map[string]any{"result": map[string]any{"data": "oh ****"}}},
		{"publish of a number", "publish", body("publish", "alice", map[string]any{"channel": "chat:lobby", "data": 7}),
			map[string]any{"error": map[string]any{"code": "bad_request", "message": errBadData.Error()}}},
		{"rpc echo:upper", "rpc", body("rpc", "alice", map[string]any{"method": "echo:upper", "data": "hi there"}),
			map[string]any{"result": map[string]any{"data": "HI THERE"}}},
		{"rpc echo:sleep", "rpc", body("rpc", "alice", map[string]any{"method": "echo:sleep", "data": 1}),
			map[string]any{"result": map[string]any{"data": map[string]any{"slept_ms": 1.0}}}},
		{"rpc of an unknown method", "rpc", body("rpc", "alice", map[string]any{"method": "echo:lower", "data": "x"}),
			map[string]any{"error": map[string]any{"code": "not_found", "message": `no method "echo:lower"`}}},
	}
	_, srv := newServer(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, got := post(t, srv, c.hook, "", c.body)
			if status != http.StatusOK {
				t.Fatalf("status %d", status)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRoomCountsAcceptedPublishes: room:info and subscribe report the publishes the backend
// let through, not the refused ones.
func TestRoomCountsAcceptedPublishes(t *testing.T) {
	_, srv := newServer(t)
	for _, text := range []string{"one", "spam", "two darn"} {
		post(t, srv, "publish", "", body("publish", "bob", map[string]any{"channel": "chat:room1", "data": text}))
	}
	_, got := post(t, srv, "rpc", "", body("rpc", "bob", map[string]any{"method": "room:info", "data": map[string]any{"room": "chat:room1"}}))
	want := map[string]any{"result": map[string]any{"data": map[string]any{"room": "chat:room1", "messages": 2.0}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("room:info (-want +got):\n%s", diff)
	}
}

// TestLogoutDisconnects: session:logout closes the connection with a terminal code and signs
// the session out, so the next connect with its cookie is refused.
func TestLogoutDisconnects(t *testing.T) {
	_, srv := newServer(t)
	connect := body("connect", nil, map[string]any{"headers": map[string]string{"Cookie": "session=s-bob"}})
	_, got := post(t, srv, "connect", "", connect)
	meta := got["result"].(map[string]any)["meta"]
	_, got = post(t, srv, "rpc", "", body("rpc", "bob", map[string]any{"method": "session:logout", "meta": meta}))
	want := map[string]any{"disconnect": map[string]any{"code": 4500.0, "reason": "signed out"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("logout (-want +got):\n%s", diff)
	}
	if _, got = post(t, srv, "connect", "", connect); got["error"] == nil {
		t.Errorf("connect after logout: %v, want an error", got)
	}
}

// TestIdempotencyKey: a repeated delivery of one action (the same Idempotency-Key, as the mesh
// sends on a retry) is answered like the first and not run again, even while the first is
// still running; another key is another action.
func TestIdempotencyKey(t *testing.T) {
	b, srv := newServer(t)
	pub := body("publish", "alice", map[string]any{"channel": "chat:lobby", "data": "darn"})
	_, first := post(t, srv, "publish", "k1", pub)
	_, again := post(t, srv, "publish", "k1", pub)
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("repeat answered differently (-first +repeat):\n%s", diff)
	}
	post(t, srv, "publish", "k2", pub)
	if got := b.Processed("publish"); got != 2 {
		t.Errorf("Processed(publish) = %d, want 2 (k1 once, k2 once)", got)
	}
	if got := b.Received("publish"); got != 3 {
		t.Errorf("Received(publish) = %d, want 3", got)
	}

	// Concurrent deliveries of one slow action: one run, every delivery gets its answer.
	slow := body("rpc", "alice", map[string]any{"method": "echo:sleep", "data": 200})
	var wg sync.WaitGroup
	answers := make([]map[string]any, 4)
	for i := range answers {
		wg.Go(func() { _, answers[i] = post(t, srv, "rpc", "slow-1", slow) })
	}
	wg.Wait()
	if got := b.Processed("rpc"); got != 1 {
		t.Errorf("Processed(rpc) = %d after 4 concurrent deliveries of one key, want 1", got)
	}
	for i, a := range answers {
		if diff := cmp.Diff(answers[0], a); diff != "" {
			t.Errorf("delivery %d answered differently (-first +this):\n%s", i, diff)
		}
	}
}

// TestIdempotencyKeyExpires: after KeyTTL, a key names a new action.
func TestIdempotencyKeyExpires(t *testing.T) {
	b, srv := newServer(t)
	now := time.Now()
	b.now = func() time.Time { return now }
	pub := body("publish", "alice", map[string]any{"channel": "chat:lobby", "data": "hi"})
	post(t, srv, "publish", "k", pub)
	now = now.Add(b.keyTTL + time.Second)
	post(t, srv, "publish", "k", pub)
	if got := b.Processed("publish"); got != 2 {
		t.Errorf("Processed(publish) = %d, want 2: the key expired", got)
	}
}

// TestRefusedRequests: what is not a hook call gets an HTTP error, which the gateway counts as
// a failed hook.
func TestRefusedRequests(t *testing.T) {
	_, srv := newServer(t)
	for _, c := range []struct {
		name, method, path, body string
		want                     int
	}{
		{"GET", http.MethodGet, "/wsgateway/publish", "", http.StatusMethodNotAllowed},
		{"an unknown hook", http.MethodPost, "/wsgateway/presence", "{}", http.StatusNotFound},
		{"a body that is not JSON", http.MethodPost, "/wsgateway/publish", "garbage", http.StatusBadRequest},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(c.method, srv.URL+c.path, bytes.NewBufferString(c.body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Errorf("status %d, want %d", resp.StatusCode, c.want)
			}
		})
	}
}
