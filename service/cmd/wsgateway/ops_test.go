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
		cmd    protocol.Command
	}{
		{"token in connect", nil, protocol.Command{Op: protocol.OpConnect, Token: tok}},
		{"bearer token on the upgrade", http.Header{"Authorization": {"Bearer " + tok}}, protocol.Command{Op: protocol.OpConnect}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := dial(t, g, tc.header)
			res := resultOf[protocol.ConnectResult](t, w.call(tc.cmd))
			if res.Client == "" {
				t.Errorf("client = %q, want a non-empty connection id", res.Client)
			}
			want := protocol.ConnectResult{Client: res.Client, User: "alice", Node: "test-node", Zone: "eu-1a", PingInterval: 25}
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
	// The whole result, byte for byte: no field more or less, and an empty
	// list rather than null.
	raw := w.result(w.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "chat:s"}))
	sub := typed[protocol.SubscribeResult](t, raw)
	epoch := sub.Epoch
	if epoch == "" {
		t.Fatalf("subscribe result has no epoch: %s", raw)
	}
	if want := `{"offset":0,"epoch":"` + epoch + `","recovered":false,"publications":[]}`; string(raw) != want {
		t.Fatalf("subscribe result %s, want %s", raw, want)
	}

	apiPublish(t, g, "", "chat:s", `{"n":1}`)
	if p := w.next(); p.Push != protocol.PushPub || p.Offset != 1 {
		t.Fatalf("want push offset 1 after subscribe, got %s", show(p))
	}

	again := w.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "chat:s"})
	if errCode(again) != protocol.CodeBadRequest {
		t.Errorf("second subscribe to the same channel: want bad_request, got %s", show(again))
	}

	for _, step := range []string{"subscribed", "no longer subscribed"} {
		if res := w.result(w.call(protocol.Command{Op: protocol.OpUnsubscribe, Channel: "chat:s"})); string(res) != `{}` {
			t.Errorf("unsubscribe when %s: result %s, want {}", step, res)
		}
	}
	apiPublish(t, g, "", "chat:s", `{"n":2}`)
	w.quiet() // no push for offset 2 after unsubscribe

	sub = resultOf[protocol.SubscribeResult](t, w.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "chat:s"}))
	if sub.Offset != 2 || sub.Epoch != epoch {
		t.Fatalf("subscribe again: want offset 2 in epoch %s, got %+v", epoch, sub)
	}
	apiPublish(t, g, "", "chat:s", `{"n":3}`)
	if p := w.next(); p.Offset != 3 {
		t.Fatalf("after subscribing again: want push offset 3, got %s", show(p))
	}
}

func TestPublish(t *testing.T) {
	g := startNode(t, authArgs...)
	alice := connected(t, g, token(t, "alice", time.Hour, nil, []string{"chat:*"}))
	bob := connected(t, g, token(t, "bob", time.Hour, []string{"chat:*"}, nil))
	epoch := resultOf[protocol.SubscribeResult](t, bob.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "chat:p"})).Epoch

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
			var res protocol.Position
			if tc.api {
				res = apiPublish(t, g, "k", "chat:p", tc.data)
			} else {
				res = resultOf[protocol.Position](t, alice.call(protocol.Command{Op: protocol.OpPublish, Channel: "chat:p", Data: json.RawMessage(tc.data)}))
			}
			offset++
			if diff := cmp.Diff(protocol.Position{Offset: uint64(offset), Epoch: epoch}, res); diff != "" {
				t.Fatalf("publish result (-want +got):\n%s", diff)
			}
			// The data arrives as it was sent, byte for byte (it was compact).
			want := protocol.Message{Push: protocol.PushPub, Channel: "chat:p", Offset: uint64(offset),
				Epoch: epoch, Data: json.RawMessage(tc.data)}
			if !tc.api {
				want.User = "alice"
			}
			if diff := cmp.Diff(want, bob.next()); diff != "" {
				t.Errorf("push (-want +got):\n%s", diff)
			}
		})
	}
}

// presenceOf returns the presence list of channel, asked by w, sorted by
// client id; the count must match the list, which is never truncated here.
func presenceOf(w *wsConn, channel string) []protocol.ClientInfo {
	w.t.Helper()
	res := resultOf[protocol.PresenceResult](w.t, w.call(protocol.Command{Op: protocol.OpPresence, Channel: channel}))
	if res.Count != len(res.Users) || res.Truncated {
		w.t.Fatalf("presence result %+v: want count = len(users), not truncated", res)
	}
	return sortedClients(res.Users)
}

func sortedClients(list []protocol.ClientInfo) []protocol.ClientInfo {
	out := slices.Clone(list)
	slices.SortFunc(out, func(a, b protocol.ClientInfo) int { return strings.Compare(a.Client, b.Client) })
	return out
}

func TestPresence(t *testing.T) {
	g := startNode(t, authArgs...)
	perm := []string{"chat:*"}
	alice1, a1 := connectedAs(t, g, token(t, "alice", time.Hour, perm, nil))
	alice2, a2 := connectedAs(t, g, token(t, "alice", time.Hour, perm, nil))
	bob, b := connectedAs(t, g, token(t, "bob", time.Hour, perm, nil))
	entry := func(user string, res protocol.ConnectResult) protocol.ClientInfo {
		return protocol.ClientInfo{User: user, Client: res.Client, Node: "test-node"}
	}

	if got := presenceOf(bob, "chat:room"); len(got) != 0 {
		t.Fatalf("presence of an empty channel: want [], got %v", got)
	}
	for _, w := range []*wsConn{alice1, alice2, bob} {
		w.result(w.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "chat:room"}))
	}
	want := sortedClients([]protocol.ClientInfo{entry("alice", a1), entry("alice", a2), entry("bob", b)})
	if diff := cmp.Diff(want, presenceOf(bob, "chat:room")); diff != "" {
		t.Fatalf("presence with three subscribers (-want +got):\n%s", diff)
	}

	alice1.result(alice1.call(protocol.Command{Op: protocol.OpUnsubscribe, Channel: "chat:room"}))
	want = sortedClients([]protocol.ClientInfo{entry("alice", a2), entry("bob", b)})
	if diff := cmp.Diff(want, presenceOf(bob, "chat:room")); diff != "" {
		t.Fatalf("presence after alice1 unsubscribed (-want +got):\n%s", diff)
	}

	_ = alice2.c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	alice2.c.Close()
	want = sortedClients([]protocol.ClientInfo{entry("bob", b)})
	var diff string
	within(t, 5*time.Second, func() bool { diff = cmp.Diff(want, presenceOf(bob, "chat:room")); return diff == "" },
		func() string { return "presence after alice2 closed (-want +got):\n" + diff })
}

func TestHistory(t *testing.T) {
	g := startNode(t, authArgs...)
	alice := connected(t, g, token(t, "alice", time.Hour, []string{"chat:*"}, []string{"chat:*"}))

	raw := alice.result(alice.call(protocol.Command{Op: protocol.OpHistory, Channel: "chat:never"}))
	if empty := typed[protocol.HistoryResult](t, raw); empty.Offset != 0 || empty.Epoch == "" ||
		string(raw) != `{"offset":0,"epoch":"`+empty.Epoch+`","publications":[]}` {
		t.Errorf("history of a channel never published to: want offset 0, an epoch and [], got %s", raw)
	}

	for n := 1; n <= 4; n++ {
		apiPublish(t, g, "k", "chat:h", fmt.Sprintf(`{"n":%d}`, n))
	}
	last := resultOf[protocol.Position](t, alice.call(protocol.Command{Op: protocol.OpPublish, Channel: "chat:h", Data: json.RawMessage(`{"n":5}`)}))
	epoch := last.Epoch
	pub := func(n int) *protocol.Publication {
		p := &protocol.Publication{Channel: "chat:h", Offset: uint64(n), Epoch: epoch, Data: fmt.Appendf(nil, `{"n":%d}`, n)}
		if n == 5 {
			p.User = "alice"
		}
		return p
	}
	pubs := func(from, to int) protocol.Publications {
		out := protocol.Publications{}
		for n := from; n <= to; n++ {
			out = append(out, pub(n))
		}
		return out
	}

	for _, tc := range []struct {
		name string
		cmd  protocol.Command // op and channel added
		want protocol.Publications
	}{
		{"no limit: all retained", protocol.Command{}, pubs(1, 5)},
		{"limit 0: all retained", protocol.Command{Limit: 0}, pubs(1, 5)},
		{"latest 2", protocol.Command{Limit: 2}, pubs(4, 5)},
		{"limit above the count", protocol.Command{Limit: 10}, pubs(1, 5)},
		{"since 0", protocol.Command{Since: new(uint64(0))}, pubs(1, 5)},
		{"since is exclusive", protocol.Command{Since: new(uint64(2))}, pubs(3, 5)},
		{"since with limit: the first after since", protocol.Command{Since: new(uint64(2)), Limit: 2}, pubs(3, 4)},
		{"since the current offset", protocol.Command{Since: new(uint64(5))}, pubs(1, 0)},
		{"since beyond the current offset", protocol.Command{Since: new(uint64(9))}, pubs(1, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := tc.cmd
			cmd.Op, cmd.Channel = protocol.OpHistory, "chat:h"
			got := resultOf[protocol.HistoryResult](t, alice.call(cmd))
			want := protocol.HistoryResult{Offset: 5, Epoch: epoch, Publications: tc.want}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("history (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPing(t *testing.T) {
	g := startNode(t, "--dev")
	w := connected(t, g, "")
	if res := w.result(w.call(protocol.Command{Op: protocol.OpPing})); string(res) != `{}` {
		t.Errorf("ping result %s, want {}", res)
	}
}

func TestIdempotencyKey(t *testing.T) {
	g := startNode(t, "--dev")
	sub := connected(t, g, "")
	for _, ch := range []string{"chat:i", "chat:j"} {
		sub.result(sub.call(protocol.Command{Op: protocol.OpSubscribe, Channel: ch}))
	}
	pub := connected(t, g, "")
	publish := func(ch string, n int, key string) uint64 {
		t.Helper()
		cmd := protocol.Command{Op: protocol.OpPublish, Channel: ch, Data: json.RawMessage(fmt.Sprint(n)), IdempotencyKey: key}
		return resultOf[protocol.Position](t, pub.call(cmd)).Offset
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
	if got := apiPublishBody(t, g, `{"channel":"chat:i","data":9,"idempotency_key":"k1"}`).Offset; got != 1 {
		t.Errorf("API publish with a key already used on the socket: offset %d, want 1", got)
	}
	for i, st := range steps {
		if !st.wantPush {
			continue
		}
		want := protocol.Message{Push: protocol.PushPub, Channel: st.channel, Offset: st.wantOffset, Data: json.RawMessage(fmt.Sprint(i))}
		p := sub.next()
		p.Epoch = "" // the channels' epochs are not the point here
		if diff := cmp.Diff(want, p); diff != "" {
			t.Fatalf("push after %q (-want +got):\n%s", st.name, diff)
		}
	}
	sub.quiet()
}

// apiPublishBody publishes body through the API of a --dev node and returns the
// position it took; anything but 200 fails the test.
func apiPublishBody(t *testing.T, g *gw, body string) protocol.Position {
	t.Helper()
	code, res := apiCall(t, g, "POST", "/api/v1/publish", "", body)
	if code != http.StatusOK {
		t.Fatalf("API publish %s: %d %s", body, code, res)
	}
	return typed[protocol.Position](t, res)
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
					cmd, perr := protocol.DecodeCommand([]byte(l))
					if perr != nil {
						t.Fatalf("bad command in test: %s: %v", l, perr)
					}
					wantIDs = append(wantIDs, cmd.ID)
				}
			}
			var gotIDs []uint64
			var offsets []uint64
			for len(gotIDs) < len(wantIDs) {
				m := w.next()
				if m.Push != "" {
					continue
				}
				gotIDs = append(gotIDs, m.ID)
				// Publish, subscribe and history answer with an offset.
				var res struct {
					Offset *uint64 `json:"offset"`
				}
				if err := json.Unmarshal(w.result(m), &res); err != nil {
					t.Fatal(err)
				}
				if res.Offset != nil {
					offsets = append(offsets, *res.Offset)
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
	w.result(w.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "chat:b"}))

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
		w.result(w.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "user:alice"}))
	}
	if res := bob.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "user:alice"}); errCode(res) != protocol.CodePermissionDenied {
		t.Errorf("bob subscribing to user:alice: want permission_denied, got %s", show(res))
	}

	apiPublish(t, g, "k", "user:alice", `{"from":"backend"}`)
	bob.result(bob.call(protocol.Command{Op: protocol.OpPublish, Channel: "user:alice", Data: json.RawMessage(`{"from":"bob"}`)}))
	for i, w := range []*wsConn{alice1, alice2} {
		for _, want := range []protocol.Message{
			{Push: protocol.PushPub, Channel: "user:alice", Offset: 1, Data: json.RawMessage(`{"from":"backend"}`)},
			{Push: protocol.PushPub, Channel: "user:alice", Offset: 2, Data: json.RawMessage(`{"from":"bob"}`), User: "bob"},
		} {
			p := w.next()
			p.Epoch = "" // the channel's epoch is not the point here
			if diff := cmp.Diff(want, p); diff != "" {
				t.Errorf("alice's connection %d: push (-want +got):\n%s", i+1, diff)
			}
		}
	}
	bob.quiet()
}
