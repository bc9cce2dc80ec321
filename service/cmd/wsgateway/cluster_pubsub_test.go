package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// TestClusterPubSubConnectionKilled: Redis drops the nodes' pub/sub
// connections (CLIENT KILL TYPE pubsub), three times, while publishing goes
// on. What Redis published meanwhile never reaches the nodes live; they
// fill it from the stream, so raw subscribers on both nodes receive every
// offset exactly once, in order, in their one subscription, without unsub.
func TestClusterPubSubConnectionKilled(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	nodes := startCluster(t, srv, []string{"node-a", "node-b"})
	const ch = "pskill:live"
	var subs []*watcher
	for _, g := range nodes {
		w := watch(t, g, "")
		w.must(t, protocol.Command{Op: protocol.OpSubscribe, Channel: ch})
		subs = append(subs, w)
	}
	pub := startPublisher(t, nodes[0], []string{ch}, 5*time.Millisecond)
	rc := srv.Client()
	for round := 0; round < 3; round++ {
		target := lastOffset(subs[1], ch) + 20
		within(t, 10*time.Second, func() bool { return lastOffset(subs[0], ch) >= target && lastOffset(subs[1], ch) >= target },
			func() string {
				return fmt.Sprintf("round %d: delivery did not reach %d: %s / %s", round, target, subs[0].describe(ch), subs[1].describe(ch))
			})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		killed, err := rc.ClientKillByFilter(ctx, "TYPE", "pubsub").Result()
		cancel()
		if err != nil || killed < int64(len(nodes)) {
			t.Fatalf("CLIENT KILL TYPE pubsub: %d killed, %v; want one per node at least", killed, err)
		}
	}
	target := lastOffset(subs[1], ch) + 20
	within(t, 10*time.Second, func() bool { return lastOffset(subs[0], ch) >= target && lastOffset(subs[1], ch) >= target },
		func() string {
			return "delivery did not resume after the last kill: " + subs[0].describe(ch) + " / " + subs[1].describe(ch)
		})
	checkAllSucceeded(t, pub.halt())
	final, _ := position(t, nodes[0], ch)
	for i, w := range subs {
		within(t, 10*time.Second, func() bool { return lastOffset(w, ch) == final },
			func() string { return fmt.Sprintf("subscriber %d not at %d: %s", i, final, w.describe(ch)) })
		got, violations := w.replay(ch)
		if len(violations) > 0 || len(got) != 1 || got[0].ended != "" || !equal(got[0].offsets, seq(1, final)) {
			t.Fatalf("subscriber %d: %v %s, want offsets 1..%d in one subscription", i, violations, summary(got), final)
		}
	}
	t.Logf("pub/sub connections killed 3 times: both subscribers got offsets 1..%d exactly once, in order, no unsub", final)
}

// TestClusterQuietChannelAfterPartition: node B loses Redis (its
// connections go through a proxy that the test cuts) while node A
// publishes, and the channel is quiet afterwards, so no later live
// publication reveals the gap. When B is back, it fills what it missed
// from the stream, or, when the stream cannot give it back (history lost
// or too short), tells its subscriber with an unsub: never silence.
func TestClusterQuietChannelAfterPartition(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		loseKeys bool // Redis loses the channel before the missed publications
		missed   int
		told     bool // unsub expected; otherwise every offset, filled
	}{
		{"missed publications still in history are filled", false, 2, false},
		{"history too short for what was missed", false, 5, true},
		{"history lost: the channel starts a new epoch", true, 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := redistest.Start(t, redistest.Options{})
			link := startProxy(t, srv.Addr)
			a := startCluster(t, srv, []string{"node-a"}, "--history-size", "2")[0]
			b := startNode(t, "--dev", "--redis-url", "redis://"+link.l.Addr().String(), "--node-id", "node-b", "--history-size", "2")
			const ch = "quiet:partition"
			w := watch(t, b, "")
			w.must(t, protocol.Command{Op: protocol.OpSubscribe, Channel: ch})
			publishN(t, a, ch, 3)
			within(t, 5*time.Second, func() bool { return lastOffset(w, ch) == 3 }, func() string { return "no live delivery" })

			link.cut(true) // B loses every Redis connection and cannot reconnect
			if tc.loseKeys {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if err := srv.Client().Del(ctx, "wsg:{"+ch+"}:m", "wsg:{"+ch+"}:s").Err(); err != nil {
					t.Fatal(err)
				}
			}
			publishN(t, a, ch, tc.missed)
			final, _ := position(t, a, ch)
			link.restore(srv.Addr)

			if tc.told {
				within(t, 8*time.Second, func() bool { return endedByUnsub(w, ch) }, func() string { return "subscriber not told: " + w.describe(ch) })
			} else {
				within(t, 8*time.Second, func() bool { return lastOffset(w, ch) == final }, func() string { return "missed publications not filled: " + w.describe(ch) })
			}
			subs, violations := w.replay(ch)
			if len(violations) > 0 || len(subs) != 1 || (!tc.told && subs[0].ended != "") {
				t.Fatalf("%v %s", violations, summary(subs))
			}
		})
	}
}
