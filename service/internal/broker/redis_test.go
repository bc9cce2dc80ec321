package broker

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// The Redis broker runs the shared suite on a standalone server and on a
// three-master cluster. The servers are real redis-server processes started
// by redistest; a missing binary fails the test, it never skips.

func TestRedis(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	admin := srv.Client()
	runBrokerSuite(t, func(t *testing.T, h Handler) brokerUnderTest {
		flushAll(t, admin)
		return startRedis(t, srv.URL(), suiteNode, h)
	})
}

// TestRedisCluster shares one cluster between its subtests, which empty it
// first: starting a cluster takes seconds.
func TestRedisCluster(t *testing.T) {
	cl := redistest.StartCluster(t)
	admins := make([]*redis.Client, len(cl.Nodes))
	for i, n := range cl.Nodes {
		admins[i] = n.Client()
	}
	t.Run("suite", func(t *testing.T) {
		runBrokerSuite(t, func(t *testing.T, h Handler) brokerUnderTest {
			flushAll(t, admins...)
			return startRedis(t, cl.URL(), suiteNode, h)
		})
	})
	t.Run("channels across slots", func(t *testing.T) {
		flushAll(t, admins...)
		testClusterChannelsAcrossSlots(t, cl.URL(), admins)
	})
	t.Run("pub/sub connections killed", func(t *testing.T) {
		flushAll(t, admins...)
		testClusterPubSubKilled(t, cl.URL(), admins)
	})
	t.Run("emptied connection reconnects elsewhere", func(t *testing.T) {
		flushAll(t, admins...)
		testClusterEmptiedConnection(t, cl.URL(), admins)
	})
	// Last: it moves a slot, so the masters no longer split them evenly.
	t.Run("slot migrated", func(t *testing.T) {
		flushAll(t, admins...)
		testClusterSlotMigrated(t, cl.URL(), admins)
	})
}

// spreadChannels are enough channels to land on every master, several of
// them per master (in different slots).
func spreadChannels() []string {
	chans := make([]string, 30)
	for i := range chans {
		chans[i] = fmt.Sprintf("spread:%d", i)
	}
	return chans
}

// testClusterChannelsAcrossSlots subscribes to channels on every shard at
// once (so the node batches its SSUBSCRIBEs), publishes on each, and checks
// that every publication was delivered and that each channel's keys and its
// sharded pub/sub channel live on the same master: the publish script ran on
// the channel's shard, and every master took part.
func testClusterChannelsAcrossSlots(t *testing.T, url string, admins []*redis.Client) {
	rec := newRecorder(t)
	b := startRedis(t, url, suiteNode, rec)
	chans := spreadChannels()
	subscribeAll(t, b, chans)
	for _, ch := range chans {
		publishN(t, b, ch, 2)
	}
	for _, ch := range chans {
		if diff := cmp.Diff(wantPubs(ch, "", 1, 2), rec.waitPubs(t, ch, 2), ignoreEpoch); diff != "" {
			t.Errorf("%s: deliveries (-want +got):\n%s", ch, diff)
		}
	}
	for i, a := range admins {
		keys, err := a.Keys(t.Context(), "wsg:{spread:*}:m").Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) == 0 {
			t.Errorf("master %d holds no channel: the channels did not spread over the shards", i)
		}
		var want []string
		for _, k := range keys {
			want = append(want, strings.TrimSuffix(k, ":m"))
		}
		got, err := a.PubSubShardChannels(t.Context(), "wsg:{spread:*}").Result()
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(sorted(want), sorted(got)); diff != "" {
			t.Errorf("master %d: sharded pub/sub channels differ from the channels whose keys it holds (-keys +pubsub):\n%s", i, diff)
		}
	}
}

// testClusterPubSubKilled kills every pub/sub connection on every master:
// the node must subscribe each shard's channels again (one slot per
// SSUBSCRIBE, as Cluster requires) and fill what was published meanwhile.
func testClusterPubSubKilled(t *testing.T, url string, admins []*redis.Client) {
	rec := newRecorder(t)
	b := startRedis(t, url, suiteNode, rec)
	chans := spreadChannels()
	subscribeAll(t, b, chans)
	want := map[*redis.Client][]string{}
	for _, a := range admins {
		got, err := a.PubSubShardChannels(t.Context(), "wsg:{spread:*}").Result()
		if err != nil {
			t.Fatal(err)
		}
		want[a] = sorted(got)
	}
	for _, ch := range chans {
		publish(t, b, ch, protocol.PublishOptions{})
	}
	for _, a := range admins {
		if err := a.Do(t.Context(), "CLIENT", "KILL", "TYPE", "pubsub").Err(); err != nil {
			t.Fatal(err)
		}
	}
	for _, ch := range chans {
		publish(t, b, ch, protocol.PublishOptions{})
	}
	poll(t, "every shard channel subscribed again", func() error {
		for i, a := range admins {
			got, err := a.PubSubShardChannels(t.Context(), "wsg:{spread:*}").Result()
			if err != nil {
				return err
			}
			if diff := cmp.Diff(want[a], sorted(got)); diff != "" {
				return fmt.Errorf("master %d (-before +now):\n%s", i, diff)
			}
		}
		return nil
	})
	for _, ch := range chans {
		publish(t, b, ch, protocol.PublishOptions{})
	}
	for _, ch := range chans {
		if got := rec.waitPubs(t, ch, 3); len(got) != 3 || got[2].Offset != 3 {
			t.Errorf("%s: %d deliveries, last at offset %d; want offsets 1, 2, 3", ch, len(got), got[len(got)-1].Offset)
		}
	}
}

// subscribeAll subscribes b to every channel at once, so the node queues
// them together.
func subscribeAll(t *testing.T, b brokerUnderTest, chans []string) {
	t.Helper()
	var wg sync.WaitGroup
	for _, ch := range chans {
		wg.Go(func() {
			if err := b.Subscribe(t.Context(), ch); err != nil {
				t.Errorf("subscribe %s: %v", ch, err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
}

// ignoreEpoch compares publications without their epochs.
var ignoreEpoch = cmp.FilterPath(func(p cmp.Path) bool {
	sf, ok := p.Last().(cmp.StructField)
	return ok && sf.Name() == "Epoch"
}, cmp.Ignore())

// redisNode is a Redis broker under test with its metrics registry. Stop
// ends its Run and closes its client, as a killed node would stop talking
// to Redis; the test's cleanup calls it too.
type redisNode struct {
	*Redis
	reg  *prometheus.Registry
	Stop func()
}

// readyProbe prefixes the users of the Disconnect calls startRedis makes to
// learn that a node listens on the control channel; probeHandler swallows
// them so the handler under test never sees one.
const readyProbe = "wsg-ready-probe:"

type probeHandler struct {
	Handler
	node string
	seen chan struct{} // gets a value when this node's probe arrives
}

func (h *probeHandler) HandleDisconnect(user string) {
	if !strings.HasPrefix(user, readyProbe) {
		h.Handler.HandleDisconnect(user)
		return
	}
	if user == readyProbe+h.node {
		select {
		case h.seen <- struct{}{}:
		default:
		}
	}
}

// startRedis runs a Redis broker on url for node, delivering to h, with the
// suite's history settings unless a tweak changes them, and returns once the
// node is ready: it hears its control channel and lists itself in Nodes. Run
// starts asynchronously, so without that wait a Disconnect or Nodes right
// after start could race it.
func startRedis(t testing.TB, url string, node protocol.NodeInfo, h Handler, tweaks ...func(*RedisOptions)) *redisNode {
	t.Helper()
	reg := prometheus.NewRegistry()
	ph := &probeHandler{Handler: h, node: node.Node, seen: make(chan struct{}, 1)}
	opts := RedisOptions{
		URL: url, HistorySize: suiteHistorySize, HistoryTTL: time.Minute,
		Node:    func() protocol.NodeInfo { return node },
		Log:     slog.New(slog.DiscardHandler),
		Metrics: NewMetrics(reg),
	}
	for _, tweak := range tweaks {
		tweak(&opts)
	}
	r, err := NewRedis(opts, ph)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := r.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			<-done
			_ = r.Close()
		})
	}
	t.Cleanup(stop)
	waitReady(t, r, ph)
	return &redisNode{Redis: r, reg: reg, Stop: stop}
}

func waitReady(t testing.TB, r *Redis, ph *probeHandler) {
	t.Helper()
	poll(t, "node hears its control channel", func() error {
		if err := r.Disconnect(context.Background(), readyProbe+ph.node); err != nil {
			return err
		}
		select {
		case <-ph.seen:
			return nil
		case <-time.After(100 * time.Millisecond):
			return fmt.Errorf("probe not received")
		}
	})
	poll(t, "node in the registry", func() error {
		nodes, err := r.Nodes(context.Background())
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(nodes, func(n protocol.NodeInfo) bool { return n.Node == ph.node }) {
			return fmt.Errorf("nodes %v", nodes)
		}
		return nil
	})
}

// pollTimeout bounds every wait on Redis-side state.
const pollTimeout = 10 * time.Second

// poll calls check every 20 ms until it returns nil, and fails t with its
// last error after pollTimeout.
func poll(t testing.TB, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(pollTimeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, pollTimeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// flushAll empties every server, so a subtest starts from nothing.
func flushAll(t testing.TB, admins ...*redis.Client) {
	t.Helper()
	for _, a := range admins {
		if err := a.FlushAll(context.Background()).Err(); err != nil {
			t.Fatalf("FLUSHALL: %v", err)
		}
	}
}
