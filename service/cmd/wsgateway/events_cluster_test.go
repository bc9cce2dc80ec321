package main

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// Lifecycle events (CONTRACT §7) computed cluster-wide, on real gateway
// binaries over a real Redis, standalone and Cluster, read back from the
// events stream as a worker would.

// eventsNode runs a gateway binary with events on (--events) on url.
func eventsNode(t *testing.T, url, id string, extra ...string) *gw {
	t.Helper()
	return startBinary(t, append([]string{"--redis-url", url, "--events", "--node-id", id, "--jwt-secret", testSecret,
		"--drain-delay", "0s", "--drain-window", "0s"}, extra...)...)
}

func TestEventsAcrossNodes(t *testing.T) {
	t.Parallel()
	t.Run("standalone", func(t *testing.T) {
		srv := redistest.Start(t, redistest.Options{})
		testEventsAcrossNodes(t, srv.URL(), srv.Client())
	})
	t.Run("cluster", func(t *testing.T) {
		cl := redistest.StartCluster(t)
		rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs()})
		t.Cleanup(func() { rdb.Close() })
		testEventsAcrossNodes(t, cl.URL(), rdb)
	})
}

// testEventsAcrossNodes: a user on two nodes goes offline only after both
// connections closed; a channel with a subscriber on each node is not
// vacated when one leaves (soketi#616), only when the last one does.
func testEventsAcrossNodes(t *testing.T, url string, rdb redis.UniversalClient) {
	a := eventsNode(t, url, "node-a", "--vacated-delay", "500ms")
	b := eventsNode(t, url, "node-b", "--vacated-delay", "500ms")
	tok := token(t, "ann", time.Hour, []string{"room"}, nil)
	ca, ra := connectedAs(t, a, tok)
	cb, rb := connectedAs(t, b, tok)
	ca.subscribeTo("room")
	cb.subscribeTo("room")
	waitEvents(t, rdb, 10*time.Second, "channel:room", "channel.occupied", "presence.join", "presence.join")

	ca.closeWith(1000)
	waitEvents(t, rdb, 10*time.Second, "client:"+ra.Client, "connection.opened", "connection.closed 1000")
	time.Sleep(2 * time.Second) // the vacated delay and sweeps have had their chance
	stillEvents(t, rdb, "user:ann", "user.online")
	stillEvents(t, rdb, "channel:room", "channel.occupied", "presence.join", "presence.join", "presence.leave")

	cb.closeWith(1001)
	waitEvents(t, rdb, 10*time.Second, "user:ann", "user.online", "user.offline")
	waitEvents(t, rdb, 10*time.Second, "channel:room", "channel.occupied", "presence.join", "presence.join",
		"presence.leave", "presence.leave", "channel.vacated")
	log := waitEvents(t, rdb, 10*time.Second, "client:"+rb.Client, "connection.opened", "connection.closed 1001")
	if e := log["client:"+rb.Client][0]; e.User != "ann" || e.Node != "node-b" {
		t.Errorf("connection.opened names user %q on node %q, want ann on node-b", e.User, e.Node)
	}
	wantMetrics(t, a, map[string]float64{"events_emitted_total type=user.offline": 0})
	if n := metric(t, a, "events_emitted_total type=connection.opened") + metric(t, b, "events_emitted_total type=connection.opened"); n != 2 {
		t.Errorf("connection.opened counted %v times on the two nodes, want 2", n)
	}
}

// TestEventsQuickResubscribe: leaving and joining again within
// --vacated-delay (default 3s) emits neither vacated nor a second occupied.
func TestEventsQuickResubscribe(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	g := eventsNode(t, srv.URL(), "node-a")
	c := connected(t, g, token(t, "ann", time.Hour, []string{"room"}, nil))
	c.subscribeTo("room")
	c.unsubscribeFrom("room")
	c.subscribeTo("room")
	waitEvents(t, srv.Client(), 10*time.Second, "channel:room", "channel.occupied", "presence.join", "presence.leave", "presence.join")
	time.Sleep(5 * time.Second) // past the 3 s delay, with sweeps every second
	stillEvents(t, srv.Client(), "channel:room", "channel.occupied", "presence.join", "presence.leave", "presence.join")
}

// TestEventsNodeKilled: SIGKILL a node. Its connections are reported closed
// with node_lost once their entries expire (20 s without a refresh), with
// user.offline for the user who had no other connection and
// channel.vacated for the channel nobody else subscribed to; the user and
// the channel that live on the other node stay online and occupied; a
// subscriber there gets the leave push.
func TestEventsNodeKilled(t *testing.T) {
	t.Parallel()
	t.Run("standalone", func(t *testing.T) {
		t.Parallel()
		srv := redistest.Start(t, redistest.Options{})
		testEventsNodeKilled(t, srv.URL(), srv.Client())
	})
	t.Run("cluster", func(t *testing.T) {
		t.Parallel()
		cl := redistest.StartCluster(t)
		rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs()})
		t.Cleanup(func() { rdb.Close() })
		testEventsNodeKilled(t, cl.URL(), rdb)
	})
}

func testEventsNodeKilled(t *testing.T, url string, rdb redis.UniversalClient) {
	victim := eventsNode(t, url, "victim", "--vacated-delay", "500ms", "--join-leave-namespaces", "shared")
	survivor := eventsNode(t, url, "survivor", "--vacated-delay", "500ms", "--join-leave-namespaces", "shared")
	annV, annOnVictim := connectedAs(t, victim, token(t, "ann", time.Hour, []string{"shared", "solo"}, nil))
	annS := connected(t, survivor, token(t, "ann", time.Hour, []string{"shared"}, nil))
	kim, kimOnVictim := connectedAs(t, victim, token(t, "kim", time.Hour, []string{"solo"}, nil))
	annV.subscribeTo("shared")
	annV.subscribeTo("solo")
	kim.subscribeTo("solo")
	annS.subscribeTo("shared")
	waitEvents(t, rdb, 10*time.Second, "channel:shared", "channel.occupied", "presence.join", "presence.join")

	victim.Kill(t)
	const expiry = 20*time.Second + 15*time.Second // entry TTL, then a sweep, with room for a loaded machine
	waitEvents(t, rdb, expiry, "client:"+annOnVictim.Client, "connection.opened", "connection.closed node_lost")
	waitEvents(t, rdb, 5*time.Second, "client:"+kimOnVictim.Client, "connection.opened", "connection.closed node_lost")
	waitEvents(t, rdb, 5*time.Second, "user:kim", "user.online", "user.offline")
	waitEvents(t, rdb, 5*time.Second, "channel:solo", "channel.occupied", "presence.join", "presence.join",
		"presence.leave", "presence.leave", "channel.vacated")
	// The survivor's subscriber of shared hears that the lost one left.
	if got, want := annS.nextRaw(5*time.Second), protocol.AppendJoinLeave(nil, protocol.PushLeave, "shared", "ann", annOnVictim.Client); string(got) != string(want) {
		t.Errorf("survivor's subscriber got %s, want %s", got, want)
	}
	time.Sleep(2 * time.Second)
	stillEvents(t, rdb, "user:ann", "user.online")
	stillEvents(t, rdb, "channel:shared", "channel.occupied", "presence.join", "presence.join", "presence.leave")
}

// TestEventsMetricsFromStartup: every series exists at zero on a node
// without Redis (which emits no events).
func TestEventsMetricsFromStartup(t *testing.T) {
	t.Parallel()
	g := startNode(t, "--dev")
	want := map[string]float64{"events_backlog": 0}
	for _, typ := range []string{"connection.opened", "connection.closed", "user.online", "user.offline",
		"channel.occupied", "channel.vacated", "presence.join", "presence.leave"} {
		want["events_emitted_total type="+typ] = 0
	}
	for _, r := range []string{"ok", "failed", "dead"} {
		want["webhook_deliveries_total result="+r] = 0
	}
	wantMetrics(t, g, want)
}

// TestEventsDrain: SIGTERM a node. The connections it closes while draining
// are reported closed with the drain's code (1012) before it exits, and
// their user goes offline: nothing is left for the expiry to find.
func TestEventsDrain(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	g := eventsNode(t, srv.URL(), "draining")
	c, info := connectedAs(t, g, token(t, "dee", time.Hour, []string{"room"}, nil))
	c.subscribeTo("room")
	waitEvents(t, srv.Client(), 10*time.Second, "user:dee", "user.online")
	g.Signal(t)
	if code := g.Wait(t, 20*time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	stillEvents(t, srv.Client(), "client:"+info.Client, "connection.opened", "connection.closed 1012")
	stillEvents(t, srv.Client(), "user:dee", "user.online", "user.offline")
	stillEvents(t, srv.Client(), "channel:room", "channel.occupied", "presence.join", "presence.leave")
}
