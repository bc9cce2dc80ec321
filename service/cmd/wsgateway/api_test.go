package main

// End-to-end tests of the backend API (contract section 3) on one node.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// apiRoutes is one valid call of every API route.
var apiRoutes = []struct{ method, path, body string }{
	{"POST", "/api/v1/publish", `{"channel":"chat:a","data":1}`},
	{"POST", "/api/v1/broadcast", `{"channels":["chat:a"],"data":1}`},
	{"POST", "/api/v1/disconnect", `{"user":"nobody"}`},
	{"GET", "/api/v1/presence?channel=chat:a", ""},
	{"GET", "/api/v1/history?channel=chat:a", ""},
	{"GET", "/api/v1/nodes", ""},
}

// wantAPIError fails unless the answer is status with body
// {"error":{"code":code,"message":"..."}}.
func wantAPIError(t *testing.T, gotStatus int, body map[string]any, status int, code string) {
	t.Helper()
	e, _ := body["error"].(map[string]any)
	msg, _ := e["message"].(string)
	if gotStatus != status || e["code"] != code || msg == "" || len(body) != 1 {
		t.Errorf("got %d %v, want %d {\"error\":{\"code\":%q,\"message\":...}}", gotStatus, body, status, code)
	}
}

func TestAPIKey(t *testing.T) {
	g := startNode(t, authArgs...)
	for _, r := range apiRoutes {
		for _, tc := range []struct {
			name, authorization string
			wantStatus          int
		}{
			{"no key", "", http.StatusUnauthorized},
			{"wrong key", "apikey nope", http.StatusUnauthorized},
			{"key with another scheme", "Bearer k", http.StatusUnauthorized},
			{"bare key", "k", http.StatusUnauthorized},
			{"right key", "apikey k", http.StatusOK},
		} {
			t.Run(r.path+"/"+tc.name, func(t *testing.T) {
				h := http.Header{}
				if tc.authorization != "" {
					h.Set("Authorization", tc.authorization)
				}
				code, _, body := apiRequest(t, g, r.method, r.path, h, r.body)
				if tc.wantStatus == http.StatusOK {
					if code != http.StatusOK || body["error"] != nil {
						t.Errorf("got %d %v, want 200", code, body)
					}
					return
				}
				wantAPIError(t, code, body, tc.wantStatus, "unauthorized")
			})
		}
	}
}

func TestAPIWithoutKeyConfigured(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		wantStatus int
	}{
		{"no --api-key and no --dev: every call refused", []string{"--jwt-secret", testSecret}, http.StatusUnauthorized},
		{"no --api-key in --dev: no key needed", []string{"--dev"}, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := startNode(t, tc.args...)
			for _, r := range apiRoutes {
				for _, key := range []string{"", "k"} {
					code, body := apiCall(t, g, r.method, r.path, key, r.body)
					if tc.wantStatus == http.StatusOK {
						if code != http.StatusOK {
							t.Errorf("%s %s with key %q: got %d %v, want 200", r.method, r.path, key, code, body)
						}
						continue
					}
					wantAPIError(t, code, body, tc.wantStatus, "unauthorized")
				}
			}
		})
	}
}

func TestAPIPublish(t *testing.T) {
	g := startNode(t, authArgs...)
	w := connected(t, g, token(t, "bob", time.Hour, []string{"chat:*"}, nil))
	epoch := w.result(w.call(map[string]any{"op": "subscribe", "channel": "chat:api"}))["epoch"]

	for _, tc := range []struct {
		name, body string
		want       map[string]any // nil: 400 bad_request
		push       bool
	}{
		{"publish", `{"channel":"chat:api","data":{"a":1}}`, map[string]any{"offset": float64(1), "epoch": epoch}, true},
		{"with a new idempotency key", `{"channel":"chat:api","data":{"a":2},"idempotency_key":"x"}`, map[string]any{"offset": float64(2), "epoch": epoch}, true},
		{"same idempotency key again", `{"channel":"chat:api","data":{"a":3},"idempotency_key":"x"}`, map[string]any{"offset": float64(2), "epoch": epoch}, false},
		{"unknown fields are ignored", `{"channel":"chat:api","data":{"a":4},"extra":true}`, map[string]any{"offset": float64(3), "epoch": epoch}, true},
		{"invalid channel", `{"channel":"a b","data":1}`, nil, false},
		{"channel missing", `{"data":1}`, nil, false},
		{"data missing", `{"channel":"chat:api"}`, nil, false},
		{"channel not a string", `{"channel":5,"data":1}`, nil, false},
		{"idempotency key over 128 bytes", `{"channel":"chat:api","data":1,"idempotency_key":"` + strings.Repeat("k", 129) + `"}`, nil, false},
		{"invalid JSON", `{"channel":"chat:api","data":`, nil, false},
		{"empty body", ``, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, res := apiCall(t, g, "POST", "/api/v1/publish", "k", tc.body)
			if tc.want == nil {
				wantAPIError(t, code, res, http.StatusBadRequest, "bad_request")
				return
			}
			if diff := cmp.Diff(tc.want, res); code != http.StatusOK || diff != "" {
				t.Fatalf("status %d, result (-want +got):\n%s", code, diff)
			}
			if !tc.push {
				return
			}
			var sent struct{ Data any }
			_ = json.Unmarshal([]byte(tc.body), &sent)
			want := map[string]any{"push": "pub", "channel": "chat:api", "offset": tc.want["offset"],
				"epoch": epoch, "data": sent.Data} // no user: an API publish
			if diff := cmp.Diff(want, w.next()); diff != "" {
				t.Errorf("push (-want +got):\n%s", diff)
			}
		})
	}
	w.quiet() // the repeated idempotency key published nothing
}

func TestAPIBroadcast(t *testing.T) {
	g := startNode(t, authArgs...)
	w := connected(t, g, token(t, "bob", time.Hour, []string{"b:*"}, nil))
	epochs := map[string]any{}
	for _, ch := range []string{"b:1", "b:2"} {
		epochs[ch] = w.result(w.call(map[string]any{"op": "subscribe", "channel": ch}))["epoch"]
	}
	apiPublish(t, g, "k", "b:2", `"earlier"`)
	if p := w.next(); num(p["offset"]) != 1 {
		t.Fatalf("want the earlier push on b:2, got %v", p)
	}

	code, res := apiCall(t, g, "POST", "/api/v1/broadcast", "k", `{"channels":["b:1","b:2","bad channel"],"data":{"x":1}}`)
	if code != http.StatusOK {
		t.Fatalf("broadcast: %d %v", code, res)
	}
	results, _ := res["results"].([]any)
	var badMsg any
	if len(results) == 3 {
		e, _ := results[2].(map[string]any)["error"].(map[string]any)
		badMsg = e["message"]
	}
	want := map[string]any{"results": []any{
		map[string]any{"channel": "b:1", "offset": float64(1), "epoch": epochs["b:1"]},
		map[string]any{"channel": "b:2", "offset": float64(2), "epoch": epochs["b:2"]},
		map[string]any{"channel": "bad channel", "error": map[string]any{"code": "bad_request", "message": badMsg}},
	}}
	if diff := cmp.Diff(want, res); diff != "" || badMsg == "" {
		t.Fatalf("broadcast result (-want +got):\n%s", diff)
	}
	for _, want := range []map[string]any{
		{"push": "pub", "channel": "b:1", "offset": float64(1), "epoch": epochs["b:1"], "data": map[string]any{"x": float64(1)}},
		{"push": "pub", "channel": "b:2", "offset": float64(2), "epoch": epochs["b:2"], "data": map[string]any{"x": float64(1)}},
	} {
		if diff := cmp.Diff(want, w.next()); diff != "" {
			t.Errorf("push (-want +got):\n%s", diff)
		}
	}

	for _, tc := range []struct{ name, body string }{
		{"no channels", `{"channels":[],"data":1}`},
		{"channels missing", `{"data":1}`},
		{"data missing", `{"channels":["b:1"]}`},
		{"invalid JSON", `{"channels":`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, res := apiCall(t, g, "POST", "/api/v1/broadcast", "k", tc.body)
			wantAPIError(t, code, res, http.StatusBadRequest, "bad_request")
		})
	}
	w.quiet()
}

func TestAPIDisconnect(t *testing.T) {
	g := startNode(t, authArgs...)
	alice1 := connected(t, g, token(t, "alice", time.Hour, nil, nil))
	alice2 := connected(t, g, token(t, "alice", time.Hour, nil, nil))
	bob := connected(t, g, token(t, "bob", time.Hour, nil, nil))

	code, res := apiCall(t, g, "POST", "/api/v1/disconnect", "k", `{"user":"alice"}`)
	if diff := cmp.Diff(map[string]any{}, res); code != http.StatusOK || diff != "" {
		t.Fatalf("disconnect: status %d, result (-want +got):\n%s", code, diff)
	}
	for i, w := range []*wsConn{alice1, alice2} {
		if code := w.closed(5 * time.Second); code != 4003 {
			t.Errorf("alice's connection %d: close code %d, want 4003", i+1, code)
		}
	}
	bob.result(bob.call(map[string]any{"op": "ping"})) // another user's connection stays

	for _, tc := range []struct {
		name, body string
		status     int
	}{
		{"user without connections", `{"user":"nobody"}`, http.StatusOK},
		{"user missing", `{}`, http.StatusBadRequest},
		{"invalid JSON", `{"user":`, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, res := apiCall(t, g, "POST", "/api/v1/disconnect", "k", tc.body)
			if tc.status == http.StatusOK {
				if diff := cmp.Diff(map[string]any{}, res); code != http.StatusOK || diff != "" {
					t.Errorf("status %d, result (-want +got):\n%s", code, diff)
				}
				return
			}
			wantAPIError(t, code, res, tc.status, "bad_request")
		})
	}
}

func TestAPIPresence(t *testing.T) {
	g := startNode(t, authArgs...)
	perm := []string{"chat:*"}
	alice, a := connectedAs(t, g, token(t, "alice", time.Hour, perm, nil))
	bob, b := connectedAs(t, g, token(t, "bob", time.Hour, perm, nil))
	for _, w := range []*wsConn{alice, bob} {
		w.result(w.call(map[string]any{"op": "subscribe", "channel": "chat:pr"}))
	}
	for _, tc := range []struct {
		name, query string
		want        []any // nil: 400 bad_request
	}{
		{"two subscribers", "channel=chat:pr", sortedClientsAny(
			map[string]any{"user": "alice", "client": a.Client, "node": "test-node"},
			map[string]any{"user": "bob", "client": b.Client, "node": "test-node"})},
		{"nobody subscribed", "channel=chat:empty", []any{}},
		{"channel missing", "", nil},
		{"invalid channel", "channel=" + url.QueryEscape("a b"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, res := apiCall(t, g, "GET", "/api/v1/presence?"+tc.query, "k", "")
			if tc.want == nil {
				wantAPIError(t, code, res, http.StatusBadRequest, "bad_request")
				return
			}
			users, _ := res["users"].([]any)
			got := map[string]any{"users": sortedClientsAny(users...)}
			if diff := cmp.Diff(map[string]any{"users": tc.want}, got); code != http.StatusOK || diff != "" || res["users"] == nil {
				t.Errorf("status %d, result (-want +got):\n%s", code, diff)
			}
		})
	}
}

// sortedClientsAny is sortedClients as a []any, never nil.
func sortedClientsAny(list ...any) []any {
	out := []any{}
	for _, m := range sortedClients(list) {
		out = append(out, m)
	}
	return out
}

func TestAPIHistory(t *testing.T) {
	g := startNode(t, authArgs...)
	var epoch any
	for n := 1; n <= 3; n++ {
		epoch = apiPublish(t, g, "k", "chat:hist", fmt.Sprintf(`{"n":%d}`, n))["epoch"]
	}
	pubs := func(offsets ...int) []any {
		out := []any{}
		for _, n := range offsets {
			out = append(out, map[string]any{"channel": "chat:hist", "offset": float64(n), "epoch": epoch,
				"data": map[string]any{"n": float64(n)}})
		}
		return out
	}
	for _, tc := range []struct {
		name, query string
		want        []any // nil: 400 bad_request
	}{
		{"everything", "", pubs(1, 2, 3)},
		{"since is exclusive", "&since=1", pubs(2, 3)},
		{"latest with limit", "&limit=1", pubs(3)},
		{"since with limit", "&since=1&limit=1", pubs(2)},
		{"since the current offset", "&since=3", pubs()},
		{"since not a number", "&since=x", nil},
		{"negative since", "&since=-1", nil},
		{"limit not a number", "&limit=x", nil},
		{"negative limit", "&limit=-1", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, res := apiCall(t, g, "GET", "/api/v1/history?channel=chat:hist"+tc.query, "k", "")
			if tc.want == nil {
				wantAPIError(t, code, res, http.StatusBadRequest, "bad_request")
				return
			}
			want := map[string]any{"offset": float64(3), "epoch": epoch, "publications": tc.want}
			if diff := cmp.Diff(want, res); code != http.StatusOK || diff != "" {
				t.Errorf("status %d, result (-want +got):\n%s", code, diff)
			}
		})
	}
	for _, q := range []string{"", "channel=" + url.QueryEscape("a b")} {
		code, res := apiCall(t, g, "GET", "/api/v1/history?"+q, "k", "")
		wantAPIError(t, code, res, http.StatusBadRequest, "bad_request")
	}
}

func TestAPINodes(t *testing.T) {
	g := startNode(t, append(authArgs, "--zone", "eu-1a")...)
	alice := connected(t, g, token(t, "alice", time.Hour, []string{"chat:*"}, nil))
	bob := connected(t, g, token(t, "bob", time.Hour, []string{"chat:*"}, nil))
	dial(t, g, nil) // upgraded but never sent connect: not a connected client
	for _, ch := range []string{"chat:1", "chat:2"} {
		alice.result(alice.call(map[string]any{"op": "subscribe", "channel": ch}))
	}
	bob.result(bob.call(map[string]any{"op": "subscribe", "channel": "chat:1"}))

	nodes := func(conns, subs int) string {
		code, res := apiCall(t, g, "GET", "/api/v1/nodes", "k", "")
		list, _ := res["nodes"].([]any)
		var uptime any
		if len(list) == 1 {
			uptime = list[0].(map[string]any)["uptime_seconds"]
		}
		if u, ok := uptime.(float64); !ok || u < 0 {
			return fmt.Sprintf("uptime_seconds %v, want a number >= 0", uptime)
		}
		want := map[string]any{"nodes": []any{map[string]any{"node": "test-node", "zone": "eu-1a",
			"connections": float64(conns), "subscriptions": float64(subs), "uptime_seconds": uptime}},
			"degraded": false}
		if diff := cmp.Diff(want, res); code != http.StatusOK || diff != "" {
			return fmt.Sprintf("status %d, nodes (-want +got):\n%s", code, diff)
		}
		return ""
	}
	if msg := nodes(2, 3); msg != "" {
		t.Fatal(msg)
	}
	alice.c.Close()
	within(t, 5*time.Second, func() bool { return nodes(1, 1) == "" }, func() string { return nodes(1, 1) })
}

func TestAPIRoutingErrors(t *testing.T) {
	g := startNode(t, authArgs...)
	auth := http.Header{"Authorization": {"apikey k"}}
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code, allow              string
	}{
		{"unknown route", "GET", "/api/v1/nope", "", http.StatusNotFound, "not_found", ""},
		{"root", "GET", "/", "", http.StatusNotFound, "not_found", ""},
		{"route with a trailing slash", "POST", "/api/v1/publish/", `{"channel":"a","data":1}`, http.StatusNotFound, "not_found", ""},
		{"GET on publish", "GET", "/api/v1/publish", "", http.StatusMethodNotAllowed, "bad_request", "POST"},
		{"PUT on broadcast", "PUT", "/api/v1/broadcast", `{}`, http.StatusMethodNotAllowed, "bad_request", "POST"},
		{"POST on nodes", "POST", "/api/v1/nodes", `{}`, http.StatusMethodNotAllowed, "bad_request", "GET"},
		{"DELETE on history", "DELETE", "/api/v1/history?channel=a", "", http.StatusMethodNotAllowed, "bad_request", "GET"},
		{"invalid JSON on publish", "POST", "/api/v1/publish", `{"channel":`, http.StatusBadRequest, "bad_request", ""},
		{"JSON array on disconnect", "POST", "/api/v1/disconnect", `["alice"]`, http.StatusBadRequest, "bad_request", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, h, res := apiRequest(t, g, tc.method, tc.path, auth, tc.body)
			wantAPIError(t, code, res, tc.status, tc.code)
			if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			if tc.allow != "" && h.Get("Allow") != tc.allow {
				t.Errorf("Allow %q, want %q", h.Get("Allow"), tc.allow)
			}
		})
	}
}

func TestAPIPrettyPrintedDataIsOneLine(t *testing.T) {
	g := startNode(t, authArgs...)
	w := connected(t, g, token(t, "bob", time.Hour, []string{"chat:*"}, nil))
	w.result(w.call(map[string]any{"op": "subscribe", "channel": "chat:pretty"}))
	const pretty = "{\r\n  \"text\": \"two\\nlines\",\n  \"list\": [\n    1,\n    2\n  ]\n}"
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(pretty)); err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct{ name, path, body string }{
		{"publish", "/api/v1/publish", `{"channel":"chat:pretty","data":` + pretty + "}"},
		{"broadcast", "/api/v1/broadcast", "{\n\"channels\": [\"chat:pretty\"],\n\"data\": " + pretty + "\n}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, res := apiCall(t, g, "POST", tc.path, "k", tc.body); code != http.StatusOK {
				t.Fatalf("%d %v", code, res)
			}
			line := w.nextRaw(5 * time.Second) // one '\n'-separated line of a frame
			var p struct {
				Offset uint64
				Data   json.RawMessage
			}
			if err := json.Unmarshal(line, &p); err != nil {
				t.Fatalf("push line %q is not one JSON object: %v", line, err)
			}
			if p.Offset != uint64(i+1) || string(p.Data) != compact.String() {
				t.Errorf("push offset %d data %s, want offset %d data %s", p.Offset, p.Data, i+1, compact.String())
			}
		})
	}
	code, res := apiCall(t, g, "GET", "/api/v1/history?channel=chat:pretty", "k", "")
	pubs, _ := res["publications"].([]any)
	if code != http.StatusOK || len(pubs) != 2 {
		t.Fatalf("history: %d %v", code, res)
	}
}
