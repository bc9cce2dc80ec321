package broker

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/protocol"
	"github.com/wsgateway/wsgateway/service/streams"
)

// The lifecycle scripts on a real standalone server and a real three-master
// cluster (where each partition's keys must stay in one slot): the events
// they append are read back from the streams.

const testParts = 4

func TestRedisLifecycle(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	runLifecycleSuite(t, srv.URL(), srv.Client())
}

func TestRedisClusterLifecycle(t *testing.T) {
	cl := redistest.StartCluster(t)
	admins := make([]*redis.Client, len(cl.Nodes))
	for i, n := range cl.Nodes {
		admins[i] = n.Client()
	}
	runLifecycleSuite(t, cl.URL(), admins...)
}

func runLifecycleSuite(t *testing.T, url string, admins ...*redis.Client) {
	tests := []struct {
		name string
		run  func(t *testing.T, r *Redis)
	}{
		{"user on two connections", testUserTwoConnections},
		{"channel with a subscriber on each node", testChannelTwoNodes},
		{"quick re-subscribe cancels vacated", testQuickResubscribe},
		{"dead node's entries expire", testDeadNode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flushAll(t, admins...)
			r := startRedis(t, url, suiteNode, quietHandler{}).Redis
			if p, err := r.InitEvents(context.Background(), testParts); err != nil || p != testParts {
				t.Fatalf("InitEvents = %d, %v", p, err)
			}
			tt.run(t, r)
		})
	}
}

var fastVacate = LifecycleTiming{VacatedDelay: 300 * time.Millisecond}

func apply(t *testing.T, r *Redis, ops ...LifecycleOp) {
	t.Helper()
	if _, err := r.ApplyLifecycle(context.Background(), testParts, fastVacate, ops); err != nil {
		t.Fatalf("ApplyLifecycle: %v", err)
	}
}

func open(user, client, node string) []LifecycleOp {
	return []LifecycleOp{{Kind: KindConn, User: user, Client: client, Node: node},
		{Kind: KindUser, User: user, Client: client, Node: node}}
}

func closeOps(user, client, node, code string) []LifecycleOp {
	return []LifecycleOp{{Remove: true, Kind: KindUser, User: user, Client: client, Node: node},
		{Remove: true, Kind: KindConn, User: user, Client: client, Node: node, Code: code}}
}

func sub(user, client, node, ch string, remove bool) LifecycleOp {
	return LifecycleOp{Remove: remove, Kind: KindChannel, User: user, Client: client, Node: node, Channel: ch}
}

// eventsOf reads subject's events in order (they are all in its partition)
// as "type" or "type code".
func eventsOf(t *testing.T, r *Redis, subject string) []string {
	t.Helper()
	part := streams.Part{Group: streams.Events, N: streams.Partition(subject, testParts)}
	msgs, err := r.rdb.XRange(context.Background(), part.Stream(), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	seq := 0
	for _, m := range msgs {
		if m.Values["subject"] != subject {
			continue
		}
		seq++
		if got := m.Values["seq"]; got != strconv.Itoa(seq) {
			t.Errorf("%s: event %d has seq %v, want %d (per subject, by one)", subject, seq, got, seq)
		}
		s := m.Values["type"].(string)
		if c, ok := m.Values["code"]; ok {
			s += " " + c.(string)
		}
		out = append(out, s)
	}
	return out
}

func wantEvents(t *testing.T, r *Redis, subject string, want ...string) {
	t.Helper()
	if diff := cmp.Diff(want, eventsOf(t, r, subject)); diff != "" {
		t.Errorf("%s events (-want +got):\n%s", subject, diff)
	}
}

func sweepFor(t *testing.T, r *Redis, d time.Duration) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if _, err := r.SweepLifecycle(context.Background(), testParts, fastVacate); err != nil {
			t.Fatalf("SweepLifecycle: %v", err)
		}
	}
}

func testUserTwoConnections(t *testing.T, r *Redis) {
	apply(t, r, open("ann", "c1", "n1")...)
	apply(t, r, open("ann", "c2", "n2")...)
	apply(t, r, open("ann", "c2", "n2")...) // a refresh: nothing new
	apply(t, r, closeOps("ann", "c1", "n1", "1000")...)
	wantEvents(t, r, "user:ann", "user.online")
	apply(t, r, closeOps("ann", "c2", "n2", "4001")...)
	apply(t, r, closeOps("ann", "c2", "n2", "4001")...) // a retry: nothing new
	wantEvents(t, r, "user:ann", "user.online", "user.offline")
	wantEvents(t, r, "client:c1", "connection.opened", "connection.closed 1000")
	wantEvents(t, r, "client:c2", "connection.opened", "connection.closed 4001")
}

// soketi#616: two nodes, one subscriber leaves, another remains: no vacated.
func testChannelTwoNodes(t *testing.T, r *Redis) {
	apply(t, r, sub("ann", "c1", "n1", "room", false))
	apply(t, r, sub("bob", "c2", "n2", "room", false))
	apply(t, r, sub("ann", "c1", "n1", "room", true))
	sweepFor(t, r, 600*time.Millisecond)
	wantEvents(t, r, "channel:room", "channel.occupied", "presence.join", "presence.join", "presence.leave")
	apply(t, r, sub("bob", "c2", "n2", "room", true))
	sweepFor(t, r, 600*time.Millisecond)
	wantEvents(t, r, "channel:room", "channel.occupied", "presence.join", "presence.join", "presence.leave",
		"presence.leave", "channel.vacated")
}

func testQuickResubscribe(t *testing.T, r *Redis) {
	apply(t, r, sub("ann", "c1", "n1", "room", false))
	apply(t, r, sub("ann", "c1", "n1", "room", true))
	apply(t, r, sub("ann", "c1", "n1", "room", false))
	sweepFor(t, r, 600*time.Millisecond)
	wantEvents(t, r, "channel:room", "channel.occupied", "presence.join", "presence.leave", "presence.join")
}

func testDeadNode(t *testing.T, r *Redis) {
	defer func(d time.Duration) { entryTTL = d }(entryTTL)
	apply(t, r, open("ann", "c2", "alive")...)
	apply(t, r, sub("bob", "c3", "alive", "both", false))
	entryTTL = 200 * time.Millisecond // the dead node's entries: it never refreshes them
	apply(t, r, open("ann", "c1", "dead")...)
	apply(t, r, open("cid", "c4", "dead")...)
	apply(t, r, sub("ann", "c1", "dead", "both", false), sub("ann", "c1", "dead", "lonely", false))
	entryTTL = time.Minute
	sweepFor(t, r, time.Second)
	wantEvents(t, r, "client:c1", "connection.opened", "connection.closed node_lost")
	wantEvents(t, r, "user:ann", "user.online") // c2 is alive
	wantEvents(t, r, "user:cid", "user.online", "user.offline")
	wantEvents(t, r, "channel:both", "channel.occupied", "presence.join", "presence.join", "presence.leave")
	wantEvents(t, r, "channel:lonely", "channel.occupied", "presence.join", "presence.leave", "channel.vacated")
	if got := eventsOf(t, r, "client:c2"); !slices.Equal(got, []string{"connection.opened"}) {
		t.Errorf("the live connection: %v", got)
	}
}

// quietHandler ignores what the broker delivers: these tests read streams.
type quietHandler struct{}

func (quietHandler) HandlePublication(*protocol.Publication) {}
func (quietHandler) HandleDisconnect(string)                 {}
