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

	"github.com/wsgateway/wsgateway/service/protocol"
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
// {"error":{"code":code,"message":"..."}} and nothing else (the strict
// decode refuses any other field).
func wantAPIError(t *testing.T, gotStatus int, body []byte, status int, code string) {
	t.Helper()
	var e apiError
	err := decodeStrict(body, &e)
	if err != nil || gotStatus != status || e.Error.Code != code || e.Error.Message == "" {
		t.Errorf("got %d %s (%v), want %d {\"error\":{\"code\":%q,\"message\":...}}", gotStatus, body, err, status, code)
	}
}

// wantEmptyObject fails unless an API answer is 200 with the body {}.
func wantEmptyObject(t *testing.T, code int, body []byte) {
	t.Helper()
	if got := strings.TrimSpace(string(body)); code != http.StatusOK || got != `{}` {
		t.Errorf("got %d %s, want 200 {}", code, got)
	}
}

// broadcastAnswer is the body of POST /api/v1/broadcast. The server's type
// is internal to it; typed's strict decode fails on any field the two do not
// share.
type broadcastAnswer struct {
	Results []broadcastResult `json:"results"`
}

// broadcastResult is one channel's outcome: its position, or its error.
type broadcastResult struct {
	Channel string          `json:"channel"`
	Offset  *uint64         `json:"offset,omitempty"`
	Epoch   string          `json:"epoch,omitempty"`
	Error   *protocol.Error `json:"error,omitempty"`
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
					if code != http.StatusOK || apiErrCode(body) != "" {
						t.Errorf("got %d %s, want 200", code, body)
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
							t.Errorf("%s %s with key %q: got %d %s, want 200", r.method, r.path, key, code, body)
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
	epoch := resultOf[protocol.SubscribeResult](t, w.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "chat:api"})).Epoch

	for _, tc := range []struct {
		name, body string
		want       *protocol.Position // nil: 400 bad_request
		push       bool
	}{
		{"publish", `{"channel":"chat:api","data":{"a":1}}`, &protocol.Position{Offset: 1, Epoch: epoch}, true},
		{"with a new idempotency key", `{"channel":"chat:api","data":{"a":2},"idempotency_key":"x"}`, &protocol.Position{Offset: 2, Epoch: epoch}, true},
		{"same idempotency key again", `{"channel":"chat:api","data":{"a":3},"idempotency_key":"x"}`, &protocol.Position{Offset: 2, Epoch: epoch}, false},
		{"unknown fields are ignored", `{"channel":"chat:api","data":{"a":4},"extra":true}`, &protocol.Position{Offset: 3, Epoch: epoch}, true},
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
			if code != http.StatusOK {
				t.Fatalf("status %d %s, want 200", code, res)
			}
			if diff := cmp.Diff(*tc.want, typed[protocol.Position](t, res)); diff != "" {
				t.Fatalf("result (-want +got):\n%s", diff)
			}
			if !tc.push {
				return
			}
			var sent struct{ Data json.RawMessage }
			if err := json.Unmarshal([]byte(tc.body), &sent); err != nil {
				t.Fatal(err)
			}
			// The data as sent, byte for byte (it is compact); no user: an API publish.
			want := protocol.Message{Push: protocol.PushPub, Channel: "chat:api", Offset: tc.want.Offset, Epoch: epoch, Data: sent.Data}
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
	epochs := map[string]string{}
	for _, ch := range []string{"b:1", "b:2"} {
		epochs[ch] = resultOf[protocol.SubscribeResult](t, w.call(protocol.Command{Op: protocol.OpSubscribe, Channel: ch})).Epoch
	}
	apiPublish(t, g, "k", "b:2", `"earlier"`)
	if p := w.next(); p.Offset != 1 {
		t.Fatalf("want the earlier push on b:2, got %s", show(p))
	}

	code, res := apiCall(t, g, "POST", "/api/v1/broadcast", "k", `{"channels":["b:1","b:2","bad channel"],"data":{"x":1}}`)
	if code != http.StatusOK {
		t.Fatalf("broadcast: %d %v", code, res)
	}
	got := typed[broadcastAnswer](t, res)
	var badMsg string
	if len(got.Results) == 3 && got.Results[2].Error != nil {
		badMsg = got.Results[2].Error.Message
	}
	want := broadcastAnswer{Results: []broadcastResult{
		{Channel: "b:1", Offset: new(uint64(1)), Epoch: epochs["b:1"]},
		{Channel: "b:2", Offset: new(uint64(2)), Epoch: epochs["b:2"]},
		{Channel: "bad channel", Error: &protocol.Error{Code: protocol.CodeBadRequest, Message: badMsg}},
	}}
	if diff := cmp.Diff(want, got); diff != "" || badMsg == "" {
		t.Fatalf("broadcast result %s (-want +got):\n%s", res, diff)
	}
	for _, want := range []protocol.Message{
		{Push: protocol.PushPub, Channel: "b:1", Offset: 1, Epoch: epochs["b:1"], Data: json.RawMessage(`{"x":1}`)},
		{Push: protocol.PushPub, Channel: "b:2", Offset: 2, Epoch: epochs["b:2"], Data: json.RawMessage(`{"x":1}`)},
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
	wantEmptyObject(t, code, res)
	for i, w := range []*wsConn{alice1, alice2} {
		if code := w.closed(5 * time.Second); code != 4003 {
			t.Errorf("alice's connection %d: close code %d, want 4003", i+1, code)
		}
	}
	bob.result(bob.call(protocol.Command{Op: protocol.OpPing})) // another user's connection stays

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
				wantEmptyObject(t, code, res)
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
		w.result(w.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "chat:pr"}))
	}
	for _, tc := range []struct {
		name, query string
		want        []protocol.ClientInfo // nil: 400 bad_request
	}{
		{"two subscribers", "channel=chat:pr", sortedClients([]protocol.ClientInfo{
			{User: "alice", Client: a.Client, Node: "test-node"},
			{User: "bob", Client: b.Client, Node: "test-node"}})},
		{"nobody subscribed", "channel=chat:empty", []protocol.ClientInfo{}},
		{"channel missing", "", nil},
		{"invalid channel", "channel=" + url.QueryEscape("a b"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, res := apiCall(t, g, "GET", "/api/v1/presence?"+tc.query, "k", "")
			if tc.want == nil {
				wantAPIError(t, code, res, http.StatusBadRequest, "bad_request")
				return
			}
			if code != http.StatusOK {
				t.Fatalf("status %d %s, want 200", code, res)
			}
			got := typed[protocol.PresenceResult](t, res) // users is a list, never null
			got.Users = sortedClients(got.Users)
			want := protocol.PresenceResult{Users: tc.want, Count: len(tc.want)}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAPIHistory(t *testing.T) {
	g := startNode(t, authArgs...)
	var epoch string
	for n := 1; n <= 3; n++ {
		epoch = apiPublish(t, g, "k", "chat:hist", fmt.Sprintf(`{"n":%d}`, n)).Epoch
	}
	pubs := func(offsets ...int) protocol.Publications {
		out := protocol.Publications{}
		for _, n := range offsets {
			out = append(out, &protocol.Publication{Channel: "chat:hist", Offset: uint64(n), Epoch: epoch,
				Data: fmt.Appendf(nil, `{"n":%d}`, n)})
		}
		return out
	}
	for _, tc := range []struct {
		name, query string
		want        protocol.Publications // nil: 400 bad_request
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
			if code != http.StatusOK {
				t.Fatalf("status %d %s, want 200", code, res)
			}
			want := protocol.HistoryResult{Offset: 3, Epoch: epoch, Publications: tc.want}
			if diff := cmp.Diff(want, typed[protocol.HistoryResult](t, res)); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
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
		alice.result(alice.call(protocol.Command{Op: protocol.OpSubscribe, Channel: ch}))
	}
	bob.result(bob.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "chat:1"}))

	nodes := func(conns, subs int) string {
		code, res := apiCall(t, g, "GET", "/api/v1/nodes", "k", "")
		if code != http.StatusOK {
			return fmt.Sprintf("status %d %s, want 200", code, res)
		}
		got := typed[nodesAnswer](t, res) // every field present, no other
		var uptime int64 = -1
		if len(got.Nodes) == 1 {
			uptime = got.Nodes[0].UptimeSeconds
		}
		if uptime < 0 {
			return fmt.Sprintf("nodes %s: want one node with uptime_seconds >= 0", res)
		}
		want := nodesAnswer{Nodes: []protocol.NodeInfo{{Node: "test-node", Zone: "eu-1a",
			Connections: conns, Subscriptions: subs, UptimeSeconds: uptime}}}
		if diff := cmp.Diff(want, got); diff != "" {
			return fmt.Sprintf("nodes (-want +got):\n%s", diff)
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
	w.result(w.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "chat:pretty"}))
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
				t.Fatalf("%d %s", code, res)
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
	if code != http.StatusOK || len(typed[protocol.HistoryResult](t, res).Publications) != 2 {
		t.Fatalf("history: %d %s", code, res)
	}
}
