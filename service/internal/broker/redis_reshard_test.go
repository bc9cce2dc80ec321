package broker

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// TestSlotOf checks the hash slot against what Redis 7.0's CLUSTER KEYSLOT
// answered for the same keys, hash-tag corner cases included.
func TestSlotOf(t *testing.T) {
	for key, want := range map[string]int{
		"":                     0,
		"123456789":            12739,
		"{user1000}.following": 3443,
		"foo{}{bar}":           8363, // empty tag: the whole key
		"foo{{bar}}zap":        4015, // the tag is "{bar"
		"foo{bar}{zap}":        5061, // the first tag only
		"{}":                   15257,
		"wsg:{}":               3979,
		"wsg:{a}b}":            15495,
		"wsg:{spread:7}":       3176,
		"é{ü}":                 9552,
	} {
		if got := slotOf(key); got != want {
			t.Errorf("slotOf(%q) = %d, want %d", key, got, want)
		}
	}
}

// testClusterSlotMigrated moves the slot of a channel that a node
// subscribes to, keys and all, to another master with the commands that
// redis-cli --cluster reshard sends, and publishes before, during and after
// each step. The node must follow the channel to its new master and deliver
// every publication once, in order; a channel in another slot of the old
// master must carry on there, also after its connection reconnects (which
// must not take it, or the moved channel, to the wrong master). A node that
// subscribes after the move with a stale slot map must find the channel.
func testClusterSlotMigrated(t *testing.T, url string, admins []*redis.Client) {
	ctx := t.Context()
	rec := newRecorder(t)
	b := startRedis(t, url, suiteNode, rec)
	const ch = "migrating"
	slot, from := slotOwner(t, admins, ch)
	stay := channelOn(t, admins, from, slot)
	to := admins[(from+1)%len(admins)]
	old := admins[from]
	subscribeAll(t, b, []string{ch, stay})
	// A second node, idle until the move is over: its slot map is stale
	// then, so it first subscribes at the old master, which answers MOVED.
	lateRec := newRecorder(t)
	late := startRedis(t, url, protocol.NodeInfo{Node: "late"}, lateRec)

	var n uint64 // publications on ch so far
	pub := func() { n++; publishRetrying(t, b, ch, n) }
	pub()
	pub()
	publishRetrying(t, b, stay, 1)

	oldID, toID := myID(t, old), myID(t, to)
	admin(t, to, "CLUSTER", "SETSLOT", slot, "IMPORTING", oldID)
	admin(t, old, "CLUSTER", "SETSLOT", slot, "MIGRATING", toID)
	pub()
	keys, err := old.ClusterGetKeysInSlot(ctx, slot, 1000).Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("CLUSTER GETKEYSINSLOT %d: %v %v", slot, keys, err)
	}
	host, port, _ := net.SplitHostPort(to.Options().Addr)
	args := []any{"MIGRATE", host, port, "", 0, 5000, "KEYS"}
	for _, k := range keys {
		args = append(args, k)
	}
	admin(t, old, args...)
	pub() // the keys are on the new master: ASK
	for _, a := range []*redis.Client{to, old, admins[(from+2)%len(admins)]} {
		admin(t, a, "CLUSTER", "SETSLOT", slot, "NODE", toID)
		pub()
	}

	poll(t, "the channel subscribed at its new master only", func() error {
		return shardSubscribers(ctx, map[*redis.Client]map[string]int64{
			to:  {pubsubName(ch): 1},
			old: {pubsubName(ch): 0, pubsubName(stay): 1},
		})
	})
	if err := late.Subscribe(ctx, ch); err != nil {
		t.Fatalf("subscribe after the move, with a stale slot map: %v", err)
	}
	pub()
	publishRetrying(t, b, stay, 2)
	if got := lateRec.waitPubs(t, ch, 1); got[0].Offset != n {
		t.Errorf("the late node's first delivery at offset %d, want %d", got[0].Offset, n)
	}

	// The old master's connection comes back with the channel that stayed
	// only.
	if err := old.ClientKillByFilter(ctx, "TYPE", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	poll(t, "the old master's connection back, with the channel that stayed", func() error {
		return shardSubscribers(ctx, map[*redis.Client]map[string]int64{
			to:  {pubsubName(ch): 2, pubsubName(stay): 0},
			old: {pubsubName(ch): 0, pubsubName(stay): 1},
		})
	})
	pub()
	publishRetrying(t, b, stay, 3)

	for c, want := range map[string]uint64{ch: n, stay: 3} {
		got := rec.waitPubs(t, c, int(want))
		if diff := cmp.Diff(wantPubs(c, "", 1, want), got, ignoreEpoch); diff != "" {
			t.Errorf("%s: deliveries (-want +got):\n%s", c, diff)
		}
	}
	time.Sleep(100 * time.Millisecond) // a repeat would arrive now
	if got := rec.count(ch); got != int(n) {
		t.Errorf("%s: %d deliveries, want %d", ch, got, n)
	}
}

// publishRetrying publishes publication i of ch as publishN does, and
// retries while Redis refuses (a redirect that go-redis gave up on, or the
// breaker opened by them). A refused publish did not run; a retried one
// that had (a timeout) would show as a wrong offset. An idempotency key
// would not help: while the slot migrates, Redis refuses (TRYAGAIN) a script
// that would create a key in it, such as a new idempotency key.
func publishRetrying(t *testing.T, b brokerUnderTest, ch string, i uint64) {
	t.Helper()
	p := wantPub(ch, "", i)
	poll(t, fmt.Sprintf("publish %d on %s", i, ch), func() error {
		pos, err := b.Publish(t.Context(), ch, p.Data, protocol.PublishOptions{User: p.User, Time: p.Time, TraceParent: p.TraceParent})
		if err == nil && pos.Offset != i {
			t.Fatalf("publish %d on %s at offset %d", i, ch, pos.Offset)
		}
		if err != nil {
			t.Logf("publish %d on %s, retried: %v", i, ch, err)
		}
		return err
	})
}

// slotOwner returns ch's slot and the index of the admin of the master
// that owns it, as Redis says: the others answer MOVED.
func slotOwner(t *testing.T, admins []*redis.Client, ch string) (int, int) {
	t.Helper()
	slot, err := admins[0].ClusterKeySlot(t.Context(), pubsubName(ch)).Result()
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range admins {
		err := a.Exists(t.Context(), pubsubName(ch)).Err()
		if err == nil {
			return int(slot), i
		}
		if _, moved := redis.IsMovedError(err); !moved {
			t.Fatal(err)
		}
	}
	t.Fatalf("no master owns slot %d", slot)
	return 0, 0
}

// channelOn returns a channel that the master of admins[i] owns, in
// another slot than notSlot.
func channelOn(t *testing.T, admins []*redis.Client, i, notSlot int) string {
	t.Helper()
	for k := range 1000 {
		ch := fmt.Sprintf("stays:%d", k)
		if slot, owner := slotOwner(t, admins, ch); owner == i && slot != notSlot {
			return ch
		}
	}
	t.Fatalf("no channel found on master %d", i)
	return ""
}

func myID(t *testing.T, a *redis.Client) string {
	t.Helper()
	id, err := a.ClusterMyID(t.Context()).Result()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// admin runs a command and fails t on error.
func admin(t *testing.T, a *redis.Client, args ...any) {
	t.Helper()
	if err := a.Do(t.Context(), args...).Err(); err != nil {
		t.Fatalf("%s: %v: %v", a.Options().Addr, args, err)
	}
}

// shardSubscribers compares PUBSUB SHARDNUMSUB on each master with want.
func shardSubscribers(ctx context.Context, want map[*redis.Client]map[string]int64) error {
	for a, chans := range want {
		for name, n := range chans {
			got, err := a.PubSubShardNumSub(ctx, name).Result()
			if err != nil {
				return err
			}
			if got[name] != n {
				return fmt.Errorf("%s: %s has %d subscribers, want %d", a.Options().Addr, name, got[name], n)
			}
		}
	}
	return nil
}

// testClusterEmptiedConnection: a master's connection whose last channel
// left reconnects (killed here) to whichever node go-redis picks, having no
// channel to route by. The next channel for that master must still be
// subscribed there: the node sees Redis's MOVED and replaces the connection.
// Each round lands on the wrong node with probability 2/3, so six rounds
// exercise it.
func testClusterEmptiedConnection(t *testing.T, url string, admins []*redis.Client) {
	ctx := t.Context()
	rec := newRecorder(t)
	b := startRedis(t, url, suiteNode, rec)
	_, master := slotOwner(t, admins, "emptied")
	addr := admins[master].Options().Addr
	// A new channel each round, on the same master.
	next := func(round int) string {
		for k := range 1000 {
			ch := fmt.Sprintf("emptied:%d:%d", round, k)
			if _, owner := slotOwner(t, admins, ch); owner == master {
				return ch
			}
		}
		t.Fatal("no channel on the master")
		return ""
	}
	const rounds = 6
	for round := range rounds {
		ch := next(round)
		if err := b.Subscribe(ctx, ch); err != nil {
			t.Fatalf("round %d: subscribe %s: %v", round, ch, err)
		}
		publishN(t, b, ch, 1)
		rec.waitPubs(t, ch, 1)
		if err := b.Unsubscribe(ctx, ch); err != nil {
			t.Fatal(err)
		}
		poll(t, "the connection emptied", func() error {
			return shardSubscribers(ctx, map[*redis.Client]map[string]int64{admins[master]: {pubsubName(ch): 0}})
		})
		// Without subscriptions it is a normal client again. go-redis drops
		// the pooled connections killed with it before their next use.
		if err := admins[master].Do(ctx, "CLIENT", "KILL", "TYPE", "normal").Err(); err != nil {
			t.Fatal(err)
		}
		// Reconnect it now, with no channel: go-redis picks a random node.
		b.subs.mu.Lock()
		sh := b.subs.conns[addr]
		b.subs.mu.Unlock()
		if sh == nil {
			t.Fatalf("no connection for master %s", addr)
		}
		poll(t, "the emptied connection reconnected", func() error { return sh.ps.Ping(ctx) })
	}
	ch := next(rounds)
	if err := b.Subscribe(ctx, ch); err != nil {
		t.Fatalf("subscribe %s after its master's connection reconnected empty: %v", ch, err)
	}
	publishN(t, b, ch, 2)
	if got := rec.waitPubs(t, ch, 2); got[1].Offset != 2 {
		t.Errorf("deliveries %v", got)
	}
}
