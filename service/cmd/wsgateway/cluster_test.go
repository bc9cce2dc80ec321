package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/protocol"
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
		w.must(t, protocol.Command{Op: protocol.OpSubscribe, Channel: ch})
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
			reply, err := wsPub.call(protocol.Command{Op: protocol.OpPublish, Channel: ch, Data: json.RawMessage(fmt.Sprintf(`{"src":"ws","n":%d}`, i))})
			if err != nil || reply.Result == nil {
				errs <- fmt.Errorf("client publish %d: %s %v", i, show(reply), err)
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
			if n := sourceOrder(t, got[0].data, src); !equal(n, seq(0, perSource-1)) {
				t.Fatalf("subscriber %d: %s publications in the order %v", i, src, n)
			}
		}
	}
}

// srcData is the data of the publications that say where they came from.
type srcData struct {
	Src string `json:"src"`
	N   uint64 `json:"n"`
}

// sourceOrder lists the "n" of the publications whose "src" is src, in the
// order they were delivered.
func sourceOrder(t *testing.T, data []json.RawMessage, src string) []uint64 {
	t.Helper()
	var out []uint64
	for _, d := range data {
		if v := typed[srcData](t, d); v.Src == src {
			out = append(out, v.N)
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
		w.must(t, protocol.Command{Op: protocol.OpSubscribe, Channel: ch})
	}
	bob := watch(t, c, token(t, "bob", time.Hour, []string{"*"}, nil))
	if reply, _ := bob.call(protocol.Command{Op: protocol.OpSubscribe, Channel: ch}); errCode(reply) != protocol.CodePermissionDenied {
		t.Fatalf("bob subscribing to alice's channel: %s", show(reply))
	}
	apiPublish(t, a, "", ch, `{"note":"for alice"}`)
	for i, w := range alice {
		within(t, 5*time.Second, func() bool { return lastOffset(w, ch) == 1 }, func() string { return fmt.Sprintf("alice on node %d got nothing", i) })
		subs, violations := w.replay(ch)
		if len(violations) > 0 || !cmp.Equal(subs[0].data, []json.RawMessage{json.RawMessage(`{"note":"for alice"}`)}) {
			t.Fatalf("alice's connection %d: %v %s", i, violations, subs[0].data)
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
		w.must(t, protocol.Command{Op: protocol.OpSubscribe, Channel: ch})
		info, _, _ := w.snapshot()
		res := typed[protocol.ConnectResult](t, info[0].Result) // the connect reply
		want[res.Client] = res.Node
	}
	for _, g := range []*gw{a, b, c} {
		code, res := apiCall(t, g, "GET", "/api/v1/presence?channel="+ch, "", "")
		if code != http.StatusOK {
			t.Fatalf("presence through %s: %d %s", g.API, code, res)
		}
		got := map[string]string{}
		for _, u := range typed[protocol.PresenceResult](t, res).Users {
			got[u.Client] = u.Node
		}
		if !cmp.Equal(got, want) {
			t.Fatalf("presence through %s: %s, want %v", g.API, res, want)
		}
	}
	code, res := apiCall(t, b, "GET", "/api/v1/nodes", "", "")
	if code != http.StatusOK {
		t.Fatalf("nodes: %d %s", code, res)
	}
	var names []string
	for _, n := range typed[nodesAnswer](t, res).Nodes {
		names = append(names, n.Node)
	}
	slices.Sort(names)
	if !cmp.Equal(names, []string{"node-a", "node-b", "node-c"}) {
		t.Fatalf("nodes: %s", res)
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
	carol.must(t, protocol.Command{Op: protocol.OpPing})
}

// testIdempotentAcrossNodes: the same idempotency key through A, then
// through B, publishes once; the second answer has the first offset.
func testIdempotentAcrossNodes(t *testing.T, a, b, c *gw) {
	const ch = "idem:cross"
	w := watch(t, c, "")
	w.must(t, protocol.Command{Op: protocol.OpSubscribe, Channel: ch})
	body := fmt.Sprintf(`{"channel":%q,"data":{"order":17},"idempotency_key":"order-17"}`, ch)
	var positions []protocol.Position
	for _, g := range []*gw{a, b} {
		code, res := apiCall(t, g, "POST", "/api/v1/publish", "", body)
		if code != http.StatusOK {
			t.Fatalf("publish through %s: %d %s", g.API, code, res)
		}
		positions = append(positions, typed[protocol.Position](t, res))
	}
	if positions[0] != positions[1] || positions[0].Offset != 1 {
		t.Fatalf("idempotent publishes answered %+v then %+v, want offset 1 twice", positions[0], positions[1])
	}
	apiPublish(t, b, "", ch, `{"marker":true}`) // offset 2: anything repeated would come before it
	within(t, 5*time.Second, func() bool { return lastOffset(w, ch) >= 2 }, func() string { return "marker not delivered" })
	subs, violations := w.replay(ch)
	if len(violations) > 0 || !equal(subs[0].offsets, []uint64{1, 2}) {
		t.Fatalf("subscriber got %v %s, want offsets [1 2]", violations, summary(subs))
	}
}
