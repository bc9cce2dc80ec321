package main

// End-to-end tests of every client op of the contract (section 2) on one
// node, over real sockets.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// authArgs start a node that verifies tokens signed with testSecret and
// whose API needs the key "k".
var authArgs = []string{"--jwt-secret", testSecret, "--api-key", "k"}

func TestConnectResult(t *testing.T) {
	g := startNode(t, append(authArgs, "--zone", "eu-1a")...)
	tok := token(t, "alice", time.Hour, nil, nil)
	for _, tc := range []struct {
		name   string
		header http.Header
		cmd    map[string]any
	}{
		{"token in connect", nil, map[string]any{"op": "connect", "token": tok}},
		{"bearer token on the upgrade", http.Header{"Authorization": {"Bearer " + tok}}, map[string]any{"op": "connect"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := dial(t, g, tc.header)
			res := w.result(w.call(tc.cmd))
			if c, _ := res["client"].(string); c == "" {
				t.Errorf("client = %v, want a non-empty connection id", res["client"])
			}
			want := map[string]any{"client": res["client"], "user": "alice", "node": "test-node",
				"zone": "eu-1a", "ping_interval": float64(25)}
			if diff := cmp.Diff(want, res); diff != "" {
				t.Errorf("connect result (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("every connection gets its own client id", func(t *testing.T) {
		_, a := connectedAs(t, g, tok)
		_, b := connectedAs(t, g, tok)
		if a.Client == b.Client {
			t.Errorf("two connections share client id %v", a.Client)
		}
	})
}

func TestSubscribeAndUnsubscribe(t *testing.T) {
	g := startNode(t, "--dev")
	w := connected(t, g, "")
	sub := w.result(w.call(map[string]any{"op": "subscribe", "channel": "chat:s"}))
	epoch, _ := sub["epoch"].(string)
	if epoch == "" {
		t.Fatalf("subscribe result has no epoch: %v", sub)
	}
	want := map[string]any{"offset": float64(0), "epoch": epoch, "recovered": false, "publications": []any{}}
	if diff := cmp.Diff(want, sub); diff != "" {
		t.Fatalf("subscribe result (-want +got):\n%s", diff)
	}

	apiPublish(t, g, "", "chat:s", `{"n":1}`)
	if p := w.next(); p["push"] != "pub" || num(p["offset"]) != 1 {
		t.Fatalf("want push offset 1 after subscribe, got %v", p)
	}

	again := w.call(map[string]any{"op": "subscribe", "channel": "chat:s"})
	if errCode(again) != "bad_request" {
		t.Errorf("second subscribe to the same channel: want bad_request, got %v", again)
	}

	for _, step := range []string{"subscribed", "no longer subscribed"} {
		res := w.result(w.call(map[string]any{"op": "unsubscribe", "channel": "chat:s"}))
		if diff := cmp.Diff(map[string]any{}, res); diff != "" {
			t.Errorf("unsubscribe when %s (-want +got):\n%s", step, diff)
		}
	}
	apiPublish(t, g, "", "chat:s", `{"n":2}`)
	w.quiet() // no push for offset 2 after unsubscribe

	sub = w.result(w.call(map[string]any{"op": "subscribe", "channel": "chat:s"}))
	if num(sub["offset"]) != 2 || sub["epoch"] != epoch {
		t.Fatalf("subscribe again: want offset 2 in epoch %s, got %v", epoch, sub)
	}
	apiPublish(t, g, "", "chat:s", `{"n":3}`)
	if p := w.next(); num(p["offset"]) != 3 {
		t.Fatalf("after subscribing again: want push offset 3, got %v", p)
	}
}

func TestPublish(t *testing.T) {
	g := startNode(t, authArgs...)
	alice := connected(t, g, token(t, "alice", time.Hour, nil, []string{"chat:*"}))
	bob := connected(t, g, token(t, "bob", time.Hour, []string{"chat:*"}, nil))
	epoch := bob.result(bob.call(map[string]any{"op": "subscribe", "channel": "chat:p"}))["epoch"]

	offset := 0
	for _, tc := range []struct {
		name, data string
		api        bool // published through the API: the push has no user
	}{
		{"object", `{"text":"hi","n":[1,2]}`, false},
		{"array", `[1,"two",null]`, false},
		{"string", `"hello"`, false},
		{"number", `3.5`, false},
		{"boolean", `true`, false},
		{"null", `null`, false},
		{"object from the API", `{"text":"from the backend"}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var res map[string]any
			if tc.api {
				res = apiPublish(t, g, "k", "chat:p", tc.data)
			} else {
				res = alice.result(alice.call(map[string]any{"op": "publish", "channel": "chat:p", "data": json.RawMessage(tc.data)}))
			}
			offset++
			if diff := cmp.Diff(map[string]any{"offset": float64(offset), "epoch": epoch}, res); diff != "" {
				t.Fatalf("publish result (-want +got):\n%s", diff)
			}
			want := map[string]any{"push": "pub", "channel": "chat:p", "offset": float64(offset),
				"epoch": epoch, "data": jsonValue(t, tc.data)}
			if !tc.api {
				want["user"] = "alice"
			}
			if diff := cmp.Diff(want, bob.next()); diff != "" {
				t.Errorf("push (-want +got):\n%s", diff)
			}
		})
	}
}

// presenceOf returns the sorted presence list of channel, asked by w.
func presenceOf(w *wsConn, channel string) []map[string]any {
	w.t.Helper()
	res := w.result(w.call(map[string]any{"op": "presence", "channel": channel}))
	list, ok := res["users"].([]any)
	if !ok {
		w.t.Fatalf("presence result without a users list: %v", res)
	}
	return sortedClients(list)
}

func sortedClients(list []any) []map[string]any {
	out := make([]map[string]any, 0, len(list))
	for _, u := range list {
		m, _ := u.(map[string]any)
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b map[string]any) int {
		return strings.Compare(fmt.Sprint(a["client"]), fmt.Sprint(b["client"]))
	})
	return out
}

func TestPresence(t *testing.T) {
	g := startNode(t, authArgs...)
	perm := []string{"chat:*"}
	alice1, a1 := connectedAs(t, g, token(t, "alice", time.Hour, perm, nil))
	alice2, a2 := connectedAs(t, g, token(t, "alice", time.Hour, perm, nil))
	bob, b := connectedAs(t, g, token(t, "bob", time.Hour, perm, nil))
	entry := func(user string, res protocol.ConnectResult) map[string]any {
		return map[string]any{"user": user, "client": res.Client, "node": "test-node"}
	}

	if got := presenceOf(bob, "chat:room"); len(got) != 0 {
		t.Fatalf("presence of an empty channel: want [], got %v", got)
	}
	for _, w := range []*wsConn{alice1, alice2, bob} {
		w.result(w.call(map[string]any{"op": "subscribe", "channel": "chat:room"}))
	}
	want := sortedClients([]any{entry("alice", a1), entry("alice", a2), entry("bob", b)})
	if diff := cmp.Diff(want, presenceOf(bob, "chat:room")); diff != "" {
		t.Fatalf("presence with three subscribers (-want +got):\n%s", diff)
	}

	alice1.result(alice1.call(map[string]any{"op": "unsubscribe", "channel": "chat:room"}))
	want = sortedClients([]any{entry("alice", a2), entry("bob", b)})
	if diff := cmp.Diff(want, presenceOf(bob, "chat:room")); diff != "" {
		t.Fatalf("presence after alice1 unsubscribed (-want +got):\n%s", diff)
	}

	_ = alice2.c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	alice2.c.Close()
	want = sortedClients([]any{entry("bob", b)})
	var diff string
	within(t, 5*time.Second, func() bool { diff = cmp.Diff(want, presenceOf(bob, "chat:room")); return diff == "" },
		func() string { return "presence after alice2 closed (-want +got):\n" + diff })
}

func TestHistory(t *testing.T) {
	g := startNode(t, authArgs...)
	alice := connected(t, g, token(t, "alice", time.Hour, []string{"chat:*"}, []string{"chat:*"}))

	empty := alice.result(alice.call(map[string]any{"op": "history", "channel": "chat:never"}))
	if num(empty["offset"]) != 0 || empty["epoch"] == "" || len(empty["publications"].([]any)) != 0 {
		t.Errorf("history of a channel never published to: want offset 0, an epoch and [], got %v", empty)
	}

	for n := 1; n <= 4; n++ {
		apiPublish(t, g, "k", "chat:h", fmt.Sprintf(`{"n":%d}`, n))
	}
	last := alice.result(alice.call(map[string]any{"op": "publish", "channel": "chat:h", "data": map[string]any{"n": 5}}))
	epoch := last["epoch"]
	pub := func(n int) any {
		p := map[string]any{"channel": "chat:h", "offset": float64(n), "epoch": epoch, "data": map[string]any{"n": float64(n)}}
		if n == 5 {
			p["user"] = "alice"
		}
		return p
	}
	pubs := func(from, to int) []any {
		out := []any{}
		for n := from; n <= to; n++ {
			out = append(out, pub(n))
		}
		return out
	}

	for _, tc := range []struct {
		name   string
		fields map[string]any
		want   []any
	}{
		{"no limit: all retained", nil, pubs(1, 5)},
		{"limit 0: all retained", map[string]any{"limit": 0}, pubs(1, 5)},
		{"latest 2", map[string]any{"limit": 2}, pubs(4, 5)},
		{"limit above the count", map[string]any{"limit": 10}, pubs(1, 5)},
		{"since 0", map[string]any{"since": 0}, pubs(1, 5)},
		{"since is exclusive", map[string]any{"since": 2}, pubs(3, 5)},
		{"since with limit: the first after since", map[string]any{"since": 2, "limit": 2}, pubs(3, 4)},
		{"since the current offset", map[string]any{"since": 5}, pubs(1, 0)},
		{"since beyond the current offset", map[string]any{"since": 9}, pubs(1, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := map[string]any{"op": "history", "channel": "chat:h"}
			for k, v := range tc.fields {
				cmd[k] = v
			}
			got := alice.result(alice.call(cmd))
			want := map[string]any{"offset": float64(5), "epoch": epoch, "publications": tc.want}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("history %v (-want +got):\n%s", tc.fields, diff)
			}
		})
	}
}

func TestPing(t *testing.T) {
	g := startNode(t, "--dev")
	w := connected(t, g, "")
	if diff := cmp.Diff(map[string]any{}, w.result(w.call(map[string]any{"op": "ping"}))); diff != "" {
		t.Errorf("ping result (-want +got):\n%s", diff)
	}
}

func TestIdempotencyKey(t *testing.T) {
	g := startNode(t, "--dev")
	sub := connected(t, g, "")
	for _, ch := range []string{"chat:i", "chat:j"} {
		sub.result(sub.call(map[string]any{"op": "subscribe", "channel": ch}))
	}
	pub := connected(t, g, "")
	publish := func(ch string, n int, key string) uint64 {
		t.Helper()
		cmd := map[string]any{"op": "publish", "channel": ch, "data": n}
		if key != "" {
			cmd["idempotency_key"] = key
		}
		return num(pub.result(pub.call(cmd))["offset"])
	}
	steps := []struct {
		name, channel, key string
		wantOffset         uint64
		wantPush           bool
	}{
		{"first publish with a key", "chat:i", "k1", 1, true},
		{"same key again: first offset, nothing published", "chat:i", "k1", 1, false},
		{"no key: the next offset", "chat:i", "", 2, true},
		{"other channel without a key", "chat:j", "", 1, true},
		{"same key on another channel publishes", "chat:j", "k1", 2, true},
	}
	for i, st := range steps {
		if got := publish(st.channel, i, st.key); got != st.wantOffset {
			t.Fatalf("%s: offset %d, want %d", st.name, got, st.wantOffset)
		}
	}
	// The API shares the channel's keys.
	if got := num(apiPublishBody(t, g, `{"channel":"chat:i","data":9,"idempotency_key":"k1"}`)["offset"]); got != 1 {
		t.Errorf("API publish with a key already used on the socket: offset %d, want 1", got)
	}
	for i, st := range steps {
		if !st.wantPush {
			continue
		}
		want := map[string]any{"channel": st.channel, "offset": float64(st.wantOffset), "data": float64(i)}
		p := sub.next()
		got := map[string]any{"channel": p["channel"], "offset": p["offset"], "data": p["data"]}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("push after %q (-want +got):\n%s", st.name, diff)
		}
	}
	sub.quiet()
}

// apiPublishBody publishes body through the API of a --dev node and returns the
// result; anything but 200 fails the test.
func apiPublishBody(t *testing.T, g *gw, body string) map[string]any {
	t.Helper()
	code, res := apiCall(t, g, "POST", "/api/v1/publish", "", body)
	if code != http.StatusOK {
		t.Fatalf("API publish %s: %d %v", body, code, res)
	}
	return res
}

func TestRepliesInCommandOrder(t *testing.T) {
	g := startNode(t, "--dev")
	for _, tc := range []struct {
		name  string
		sep   string
		lines []string
	}{
		{"mixed ops", "\n", []string{
			`{"id":11,"op":"subscribe","channel":"chat:o1"}`,
			`{"id":12,"op":"publish","channel":"chat:o1","data":1}`,
			`{"id":13,"op":"history","channel":"chat:o1"}`,
			`{"id":14,"op":"presence","channel":"chat:o1"}`,
			`{"id":15,"op":"ping"}`,
		}},
		{"five publishes", "\n", []string{
			`{"id":21,"op":"publish","channel":"chat:o2","data":1}`,
			`{"id":22,"op":"publish","channel":"chat:o2","data":2}`,
			`{"id":23,"op":"publish","channel":"chat:o2","data":3}`,
			`{"id":24,"op":"publish","channel":"chat:o2","data":4}`,
			`{"id":25,"op":"publish","channel":"chat:o2","data":5}`,
		}},
		{"CRLF separators and a blank line", "\r\n", []string{
			`{"id":31,"op":"ping"}`,
			`{"id":32,"op":"unsubscribe","channel":"chat:o3"}`,
			``,
			`{"id":33,"op":"subscribe","channel":"chat:o3"}`,
			`{"id":34,"op":"history","channel":"chat:o3","limit":1}`,
			`{"id":35,"op":"ping"}`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := connected(t, g, "")
			w.send(strings.Join(tc.lines, tc.sep))
			var wantIDs []uint64
			for _, l := range tc.lines {
				if l != "" {
					wantIDs = append(wantIDs, num(jsonValue(t, l).(map[string]any)["id"]))
				}
			}
			var gotIDs []uint64
			var offsets []uint64
			for len(gotIDs) < len(wantIDs) {
				m := w.next()
				if _, isPush := m["push"]; isPush {
					continue
				}
				gotIDs = append(gotIDs, num(m["id"]))
				if res := w.result(m); res["offset"] != nil {
					offsets = append(offsets, num(res["offset"]))
				}
			}
			if diff := cmp.Diff(wantIDs, gotIDs); diff != "" {
				t.Errorf("reply ids (-want +got):\n%s", diff)
			}
			if !slices.IsSorted(offsets) {
				t.Errorf("offsets in replies not ascending: %v", offsets)
			}
		})
	}
}

func TestServerBatchesPushes(t *testing.T) {
	// The queue's byte bound is raised past the 8 MB below: this test is
	// about batching, and the default 4 MiB would (rightly) close it 4008.
	g := startNode(t, "--dev", "--history-size", "1", "--send-queue-bytes", "16777216")
	w := connected(t, g, "")
	w.result(w.call(map[string]any{"op": "subscribe", "channel": "chat:b"}))

	// 200 pushes of 40 KB (8 MB) cannot all sit in the kernel's socket
	// buffers while the client does not read (Linux: the send buffer grows
	// to 4 MB at most by default, the receive buffer of a socket that is not
	// read stays at its initial 128 KB): the server's writer blocks, pushes
	// queue up behind it and go out batched once the client reads.
	const n = 200
	data := `{"pad":"` + strings.Repeat("x", 40<<10) + `"}`
	start := time.Now()
	for range n {
		apiPublish(t, g, "", "chat:b", data)
	}
	t.Logf("published in %v", time.Since(start))
	var next uint64 = 1
	batched := false
	for next <= n {
		_ = w.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, frame, err := w.c.ReadMessage()
		if err != nil {
			t.Fatalf("read after %d pushes: %v", next-1, err)
		}
		lines := bytes.Split(frame, []byte("\n"))
		batched = batched || len(lines) > 1
		for _, line := range lines {
			var p struct {
				Push   string
				Offset uint64
			}
			if err := json.Unmarshal(line, &p); err != nil || p.Push != "pub" {
				t.Fatalf("want push offset %d, got %.100q (%v)", next, line, err)
			}
			if p.Offset != next {
				t.Fatalf("push offset %d, want %d: out of order or missing", p.Offset, next)
			}
			next++
		}
	}
	if !batched {
		t.Errorf("every one of %d pushes came in a frame of its own: the server never batched", n)
	}
	w.quiet()
}

func TestPersonalChannelReachesEveryConnectionOfTheUser(t *testing.T) {
	g := startNode(t, authArgs...)
	alice1 := connected(t, g, token(t, "alice", time.Hour, nil, nil))
	alice2 := connected(t, g, token(t, "alice", time.Hour, nil, nil))
	bob := connected(t, g, token(t, "bob", time.Hour, []string{"*"}, []string{"user:*"}))
	for _, w := range []*wsConn{alice1, alice2} {
		w.result(w.call(map[string]any{"op": "subscribe", "channel": "user:alice"}))
	}
	if res := bob.call(map[string]any{"op": "subscribe", "channel": "user:alice"}); errCode(res) != "permission_denied" {
		t.Errorf("bob subscribing to user:alice: want permission_denied, got %v", res)
	}

	apiPublish(t, g, "k", "user:alice", `{"from":"backend"}`)
	bob.result(bob.call(map[string]any{"op": "publish", "channel": "user:alice", "data": map[string]any{"from": "bob"}}))
	for i, w := range []*wsConn{alice1, alice2} {
		for _, want := range []map[string]any{
			{"channel": "user:alice", "offset": float64(1), "data": map[string]any{"from": "backend"}, "user": nil},
			{"channel": "user:alice", "offset": float64(2), "data": map[string]any{"from": "bob"}, "user": "bob"},
		} {
			p := w.next()
			got := map[string]any{"channel": p["channel"], "offset": p["offset"], "data": p["data"], "user": p["user"]}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("alice's connection %d: push (-want +got):\n%s", i+1, diff)
			}
		}
	}
	bob.quiet()
}
