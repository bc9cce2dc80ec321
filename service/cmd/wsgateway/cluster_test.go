package main

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
)

// TestCluster runs three nodes on one real Redis and checks that they
// behave as one gateway: whatever node a client or a backend talks to,
// it reaches every node.
func TestCluster(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	nodes := startCluster(t, srv, []string{"node-a", "node-b", "node-c"}, "--jwt-secret", testSecret, "--command-rate", "0")
	a, b, c := nodes[0], nodes[1], nodes[2]

	t.Run("publications reach other nodes in offset order", func(t *testing.T) { testCrossNodeOrder(t, a, b, c) })
	t.Run("personal channel reaches the user on every node", func(t *testing.T) { testPersonalChannel(t, a, b, c) })
	t.Run("presence and nodes list every node", func(t *testing.T) { testPresenceAndNodes(t, a, b, c) })
	t.Run("disconnect closes the user's connections on every node", func(t *testing.T) { testDisconnectAcrossNodes(t, a, b, c) })
	t.Run("idempotent publish across nodes", func(t *testing.T) { testIdempotentAcrossNodes(t, a, b, c) })
}

// testCrossNodeOrder: subscribers on B and C; two publishers on A at once,
// the backend API and a WebSocket client. Both subscribers get every offset
// in order, and each publisher's messages in the order it sent them.
func testCrossNodeOrder(t *testing.T, a, b, c *gw) {
	const ch, perSource = "xnode:order", 50
	subs := []*watcher{watch(t, b, ""), watch(t, c, "")}
	for _, w := range subs {
		w.must(t, map[string]any{"op": "subscribe", "channel": ch})
	}
	wsPub := watch(t, a, "")
	errs := make(chan error, 2)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < perSource; i++ {
			if code, res, err := postJSON(a, "/api/v1/publish", fmt.Sprintf(`{"channel":%q,"data":{"src":"api","n":%d}}`, ch, i)); err != nil || code != 200 {
				errs <- fmt.Errorf("API publish %d: %d %v %v", i, code, res, err)
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < perSource; i++ {
			reply, err := wsPub.call(map[string]any{"op": "publish", "channel": ch, "data": map[string]any{"src": "ws", "n": i}})
			if err != nil || reply["result"] == nil {
				errs <- fmt.Errorf("client publish %d: %v %v", i, reply, err)
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i, w := range subs {
		within(t, 10*time.Second, func() bool { return lastOffset(w, ch) == 2*perSource }, func() string {
			return fmt.Sprintf("subscriber %d: %s", i, w.describe(ch))
		})
		got, violations := w.replay(ch)
		if len(violations) > 0 || len(got) != 1 || !equal(got[0].offsets, seq(1, 2*perSource)) {
			t.Fatalf("subscriber %d: %v %s", i, violations, summary(got))
		}
		for _, src := range []string{"api", "ws"} {
			if n := sourceOrder(got[0].data, src); !equal(n, seq(0, perSource-1)) {
				t.Fatalf("subscriber %d: %s publications in the order %v", i, src, n)
			}
		}
	}
}

// sourceOrder lists the "n" of the publications whose "src" is src, in the
// order they were delivered.
func sourceOrder(data []any, src string) []uint64 {
	var out []uint64
	for _, d := range data {
		if m, _ := d.(map[string]any); m["src"] == src {
			out = append(out, uint64Of(m["n"]))
		}
	}
	return out
}

// lastOffset is the last offset w received on ch in its latest subscription.
func lastOffset(w *watcher, ch string) uint64 {
	subs, _ := w.replay(ch)
	if len(subs) == 0 {
		return 0
	}
	return subs[len(subs)-1].last()
}

// testPersonalChannel: alice is connected to B and C; a publication to
// user:alice through A's API reaches both connections.
func testPersonalChannel(t *testing.T, a, b, c *gw) {
	const ch = "user:alice"
	tok := token(t, "alice", time.Hour, nil, nil)
	alice := []*watcher{watch(t, b, tok), watch(t, c, tok)}
	for _, w := range alice {
		w.must(t, map[string]any{"op": "subscribe", "channel": ch})
	}
	bob := watch(t, c, token(t, "bob", time.Hour, []string{"*"}, nil))
	if reply, _ := bob.call(map[string]any{"op": "subscribe", "channel": ch}); errCode(reply) != "permission_denied" {
		t.Fatalf("bob subscribing to alice's channel: %v", reply)
	}
	apiPublish(t, a, "", ch, `{"note":"for alice"}`)
	for i, w := range alice {
		within(t, 5*time.Second, func() bool { return lastOffset(w, ch) == 1 }, func() string { return fmt.Sprintf("alice on node %d got nothing", i) })
		subs, violations := w.replay(ch)
		if len(violations) > 0 || !cmp.Equal(subs[0].data, []any{map[string]any{"note": "for alice"}}) {
			t.Fatalf("alice's connection %d: %v %v", i, violations, subs[0].data)
		}
	}
}

// testPresenceAndNodes: one subscriber per node; presence, asked on any
// node, lists the three with their nodes; /api/v1/nodes lists the three.
func testPresenceAndNodes(t *testing.T, a, b, c *gw) {
	const ch = "room:presence"
	want := map[string]string{} // client id -> node
	for _, g := range []*gw{a, b, c} {
		w := watch(t, g, "")
		w.must(t, map[string]any{"op": "subscribe", "channel": ch})
		info, _ := w.snapshot()
		res := info[0]["result"].(map[string]any) // the connect reply
		want[res["client"].(string)] = res["node"].(string)
	}
	for _, g := range []*gw{a, b, c} {
		code, res := apiCall(t, g, "GET", "/api/v1/presence?channel="+ch, "", "")
		got := map[string]string{}
		users, _ := res["users"].([]any)
		for _, u := range users {
			m := u.(map[string]any)
			got[m["client"].(string)] = m["node"].(string)
		}
		if code != http.StatusOK || !cmp.Equal(got, want) {
			t.Fatalf("presence through %s: %d %v, want %v", g.API, code, res, want)
		}
	}
	code, res := apiCall(t, b, "GET", "/api/v1/nodes", "", "")
	var names []string
	nodes, _ := res["nodes"].([]any)
	for _, n := range nodes {
		names = append(names, n.(map[string]any)["node"].(string))
	}
	slices.Sort(names)
	if code != http.StatusOK || !cmp.Equal(names, []string{"node-a", "node-b", "node-c"}) {
		t.Fatalf("nodes: %d %v", code, res)
	}
}

// testDisconnectAcrossNodes: the API of A closes dave's connections on B
// and C with 4003; carol's stays open.
func testDisconnectAcrossNodes(t *testing.T, a, b, c *gw) {
	tok := token(t, "dave", time.Hour, nil, nil)
	dave := []*watcher{watch(t, b, tok), watch(t, c, tok)}
	carol := watch(t, b, token(t, "carol", time.Hour, nil, nil))
	if code, res := apiCall(t, a, "POST", "/api/v1/disconnect", "", `{"user":"dave"}`); code != http.StatusOK {
		t.Fatalf("disconnect: %d %v", code, res)
	}
	for i, w := range dave {
		if code := w.closed(5 * time.Second); code != 4003 {
			t.Fatalf("dave's connection %d: close %d, want 4003", i, code)
		}
	}
	carol.must(t, map[string]any{"op": "ping"})
}

// testIdempotentAcrossNodes: the same idempotency key through A, then
// through B, publishes once; the second answer has the first offset.
func testIdempotentAcrossNodes(t *testing.T, a, b, c *gw) {
	const ch = "idem:cross"
	w := watch(t, c, "")
	w.must(t, map[string]any{"op": "subscribe", "channel": ch})
	body := fmt.Sprintf(`{"channel":%q,"data":{"order":17},"idempotency_key":"order-17"}`, ch)
	var positions []map[string]any
	for _, g := range []*gw{a, b} {
		code, res := apiCall(t, g, "POST", "/api/v1/publish", "", body)
		if code != http.StatusOK {
			t.Fatalf("publish through %s: %d %v", g.API, code, res)
		}
		positions = append(positions, res)
	}
	if !cmp.Equal(positions[0], positions[1]) || num(positions[0]["offset"]) != 1 {
		t.Fatalf("idempotent publishes answered %v then %v, want offset 1 twice", positions[0], positions[1])
	}
	apiPublish(t, b, "", ch, `{"marker":true}`) // offset 2: anything repeated would come before it
	within(t, 5*time.Second, func() bool { return lastOffset(w, ch) >= 2 }, func() string { return "marker not delivered" })
	subs, violations := w.replay(ch)
	if len(violations) > 0 || !equal(subs[0].offsets, []uint64{1, 2}) {
		t.Fatalf("subscriber got %v %s, want offsets [1 2]", violations, summary(subs))
	}
}
