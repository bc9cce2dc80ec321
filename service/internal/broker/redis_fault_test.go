package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// The Redis broker under failure: a dead server, a restarted one, a killed
// pub/sub connection, a dead node, a Sentinel failover. Every wait is
// bounded; none of these tests skips.

// Breaker states as wsgateway_redis_breaker_state reports them.
const (
	breakerClosed = 0
	breakerIsOpen = 2
)

// TestRedisOutage kills Redis under a publisher: the breaker opens within a
// few calls, then every call fails at once with protocol.ErrUnavailable.
// Redis comes back empty: publishing resumes by itself in a new epoch at
// offset 1, and a subscriber on another node receives that publication, so
// its sessions see the epoch change.
func TestRedisOutage(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	subRec := newRecorder(t)
	sub := startRedis(t, srv.URL(), protocol.NodeInfo{Node: "sub"}, subRec)
	pub := startRedis(t, srv.URL(), protocol.NodeInfo{Node: "pub"}, newRecorder(t))
	const ch = "outage"
	if err := sub.Subscribe(t.Context(), ch); err != nil {
		t.Fatal(err)
	}
	before := publishN(t, pub, ch, 3)
	subRec.waitPubs(t, ch, 3)

	srv.Kill()
	openBreaker(t, pub, ch)
	failFast(t, pub)
	if got := gauge(t, pub.reg, "wsgateway_redis_breaker_state"); got != breakerIsOpen {
		t.Errorf("breaker state %v after the fail-fast calls, want %v (open)", got, breakerIsOpen)
	}

	srv.Restart(t)
	after := publishUntilUp(t, pub, ch)
	if after.Offset != 1 || after.Epoch == before.Epoch {
		t.Errorf("first publish after an empty restart at %+v, want offset 1 in a new epoch (old %q)", after, before.Epoch)
	}
	waitPosition(t, subRec, ch, after)
	if got := gauge(t, pub.reg, "wsgateway_redis_breaker_state"); got != breakerClosed {
		t.Errorf("breaker state %v after Redis returned, want %v (closed)", got, breakerClosed)
	}
}

// TestRedisRestartEmptyQuietChannel: Redis restarts empty and a first
// publication in the new epoch goes out before the subscriber's pub/sub
// connection is back, and nothing follows it. The node's position check
// must find the new epoch and deliver it; otherwise its sessions would sit
// in the old epoch, silently missing that publication.
func TestRedisRestartEmptyQuietChannel(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	subRec := newRecorder(t)
	sub := startRedis(t, srv.URL(), protocol.NodeInfo{Node: "sub"}, subRec)
	const ch = "quiet"
	if err := sub.Subscribe(t.Context(), ch); err != nil {
		t.Fatal(err)
	}
	before := publishN(t, sub, ch, 2)
	subRec.waitPubs(t, ch, 2)

	srv.Kill()
	// Let the subscriber's reconnect backoff grow to its ceiling (1 s), so
	// the publication below most likely beats its resubscription.
	time.Sleep(2 * time.Second)
	srv.Restart(t)
	pub := startRedis(t, srv.URL(), protocol.NodeInfo{Node: "pub"}, newRecorder(t))
	after := publishUntilUp(t, pub, ch)
	if after.Offset != 1 || after.Epoch == before.Epoch {
		t.Fatalf("first publish after an empty restart at %+v, want offset 1 in a new epoch (old %q)", after, before.Epoch)
	}
	waitPosition(t, subRec, ch, after)
}

// openBreaker publishes on a dead server until the breaker opens; every
// failure must already be protocol.ErrUnavailable.
func openBreaker(t *testing.T, b *redisNode, ch string) {
	t.Helper()
	const maxCalls = 10
	for i := 1; i <= maxCalls; i++ {
		_, err := b.Publish(t.Context(), ch, []byte(`{}`), protocol.PublishOptions{})
		if !errors.Is(err, protocol.ErrUnavailable) {
			t.Fatalf("publish %d on a dead server: %v, want protocol.ErrUnavailable", i, err)
		}
		if gauge(t, b.reg, "wsgateway_redis_breaker_state") == breakerIsOpen {
			t.Logf("breaker open after %d failed publishes", i)
			return
		}
	}
	t.Fatalf("breaker not open after %d failed publishes", maxCalls)
}

// failFast calls every guarded operation while the breaker is open: each
// fails with protocol.ErrUnavailable. The latencies are logged, not
// asserted (a loaded CI machine would make such a bound flaky).
func failFast(t *testing.T, b *redisNode) {
	t.Helper()
	ctx := t.Context()
	info := protocol.ClientInfo{User: "u", Client: "c", Node: "pub"}
	ops := []struct {
		name string
		call func() error
	}{
		{"publish", func() error { _, err := b.Publish(ctx, "outage", []byte(`{}`), protocol.PublishOptions{}); return err }},
		{"history", func() error { _, err := b.History(ctx, "outage", protocol.HistoryQuery{}); return err }},
		{"subscribe", func() error { return b.Subscribe(ctx, "outage:new") }},
		{"presence", func() error { _, err := b.Presence(ctx, "outage"); return err }},
		{"add presence", func() error { return b.AddPresence(ctx, "outage", info) }},
		{"nodes", func() error { _, err := b.Nodes(ctx); return err }},
		{"disconnect", func() error { return b.Disconnect(ctx, "u") }},
	}
	const rounds = 20
	for _, op := range ops {
		var took []time.Duration
		for range rounds {
			start := time.Now()
			err := op.call()
			took = append(took, time.Since(start))
			if !errors.Is(err, protocol.ErrUnavailable) {
				t.Fatalf("%s with the breaker open: %v, want protocol.ErrUnavailable", op.name, err)
			}
		}
		slices.Sort(took)
		t.Logf("%s with the breaker open: median %v, worst %v over %d calls", op.name, took[rounds/2], took[rounds-1], rounds)
	}
}

// publishUntilUp retries a publish until Redis answers; until then every
// failure must be protocol.ErrUnavailable.
func publishUntilUp(t *testing.T, b brokerUnderTest, ch string) protocol.Position {
	t.Helper()
	var pos protocol.Position
	start, calls := time.Now(), 0
	poll(t, "publish after the restart", func() error {
		calls++
		var err error
		pos, err = b.Publish(t.Context(), ch, []byte(`"after"`), protocol.PublishOptions{})
		if err != nil && !errors.Is(err, protocol.ErrUnavailable) {
			t.Fatalf("publish while Redis returns: %v, want protocol.ErrUnavailable", err)
		}
		return err
	})
	t.Logf("publishing resumed after %v (%d calls)", time.Since(start).Round(time.Millisecond), calls)
	return pos
}

// waitPosition waits until rec got ch's publication at pos.
func waitPosition(t *testing.T, rec *recorder, ch string, pos protocol.Position) {
	t.Helper()
	rec.wait(t, func() bool {
		return slices.ContainsFunc(rec.pubs[ch], func(p *protocol.Publication) bool {
			return p.Offset == pos.Offset && p.Epoch == pos.Epoch
		})
	})
}

// TestRedisRestartWithData restarts Redis from its append-only file. A
// restarted master has a new replication ID, and the gateway cannot tell
// a restart that lost its last second (appendfsync everysec, an RDB
// snapshot) from one that did not: the channel starts a new epoch, so a
// client recovering from before the restart gets recovered:false instead
// of publications that might reuse offsets it has already seen.
func TestRedisRestartWithData(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{AppendOnly: true})
	b := startRedis(t, srv.URL(), suiteNode, newRecorder(t))
	const ch = "durable"
	pos := publishN(t, b, ch, 5)
	srv.Kill()
	srv.Restart(t)
	var got protocol.History
	poll(t, "history after the restart", func() error {
		var err error
		got, err = b.History(t.Context(), ch, protocol.HistoryQuery{HasSince: true, Since: 2})
		if err != nil && !errors.Is(err, protocol.ErrUnavailable) {
			t.Fatalf("history while Redis returns: %v, want protocol.ErrUnavailable", err)
		}
		return err
	})
	if got.Epoch == pos.Epoch || got.Offset != 0 || len(got.Publications) != 0 {
		t.Errorf("history since 2 after the restart: %+v, want offset 0 in a new epoch (old %q) and nothing", got, pos.Epoch)
	}
	if next := publish(t, b, ch, protocol.PublishOptions{}); next != (protocol.Position{Offset: 1, Epoch: got.Epoch}) {
		t.Errorf("publish after the restart at %+v, want offset 1 in epoch %q", next, got.Epoch)
	}
}

// TestRedisPubSubKilled kills the subscriber's pub/sub connection from
// Redis's side, twice, while another node keeps publishing: the subscriber
// ends with every offset exactly once, in order (the recorder fails the test
// on a gap or a repeat), what pub/sub missed filled from the stream. The
// history holds every publication: with the suite's 20, the stream would
// already have dropped what the subscriber missed by the time its receiver
// (behind by the reconnect) asks, and the node would rightly pass the gap on.
func TestRedisPubSubKilled(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	admin := srv.Client()
	rec := newRecorder(t)
	const ch, n = "killed", 300
	fullHistory := func(o *RedisOptions) { o.HistorySize = n }
	sub := startRedis(t, srv.URL(), protocol.NodeInfo{Node: "sub"}, rec, fullHistory)
	pub := startRedis(t, srv.URL(), protocol.NodeInfo{Node: "pub"}, newRecorder(t), fullHistory)
	if err := sub.Subscribe(t.Context(), ch); err != nil {
		t.Fatal(err)
	}
	var published atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			if _, err := pub.Publish(context.Background(), ch, fmt.Appendf(nil, "%d", i), protocol.PublishOptions{}); err != nil {
				t.Errorf("publish %d: %v", i, err)
				return
			}
			published.Add(1)
			time.Sleep(time.Millisecond)
		}
	}()
	for _, at := range []int64{n / 4, n / 2} {
		for published.Load() < at {
			time.Sleep(time.Millisecond)
		}
		killed, err := admin.ClientKillByFilter(t.Context(), "TYPE", "pubsub").Result()
		if err != nil || killed == 0 {
			t.Fatalf("CLIENT KILL TYPE pubsub: %d killed, %v", killed, err)
		}
	}
	<-done
	got := rec.waitPubs(t, ch, n)
	time.Sleep(100 * time.Millisecond) // a repeat would arrive now
	if c := rec.count(ch); c != n {
		t.Errorf("%d deliveries, want %d", c, n)
	}
	for i, p := range got {
		if p.Offset != uint64(i+1) {
			t.Fatalf("delivery %d at offset %d", i, p.Offset)
		}
	}
	if got := counter(t, sub.reg, "wsgateway_redis_errors_total", "pubsub"); got == 0 {
		t.Errorf("wsgateway_redis_errors_total{op=pubsub} is 0 after two killed connections")
	}
}

// TestRedisSubscribeRefCount: the node holds one Redis subscription per
// channel, whatever the number of local Subscribe calls, and drops it with
// the last Unsubscribe.
func TestRedisSubscribeRefCount(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	admin := srv.Client()
	rec := newRecorder(t)
	b := startRedis(t, srv.URL(), suiteNode, rec)
	ctx := t.Context()
	const ch = "refs"
	subscribers := func() int64 {
		t.Helper()
		n, err := admin.PubSubNumSub(ctx, pubsubName(ch)).Result()
		if err != nil {
			t.Fatal(err)
		}
		return n[pubsubName(ch)]
	}
	waitSubscribers := func(want int64) {
		t.Helper()
		poll(t, "PUBSUB NUMSUB", func() error {
			if got := subscribers(); got != want {
				return fmt.Errorf("%d subscribers, want %d", got, want)
			}
			return nil
		})
	}
	for range 2 {
		if err := b.Subscribe(ctx, ch); err != nil {
			t.Fatal(err)
		}
	}
	waitSubscribers(1)

	if err := b.Unsubscribe(ctx, ch); err != nil {
		t.Fatal(err)
	}
	publish(t, b, ch, protocol.PublishOptions{})
	rec.waitPubs(t, ch, 1)
	if got := subscribers(); got != 1 {
		t.Errorf("after one of two Unsubscribes: %d Redis subscribers, want 1", got)
	}

	// The last Unsubscribe and a new Subscribe right behind it: the queued
	// UNSUBSCRIBE and SUBSCRIBE keep their order, and delivery goes on.
	if err := b.Unsubscribe(ctx, ch); err != nil {
		t.Fatal(err)
	}
	if err := b.Subscribe(ctx, ch); err != nil {
		t.Fatal(err)
	}
	pos := publish(t, b, ch, protocol.PublishOptions{})
	waitPosition(t, rec, ch, pos)
	waitSubscribers(1)

	if err := b.Unsubscribe(ctx, ch); err != nil {
		t.Fatal(err)
	}
	waitSubscribers(0)
	publish(t, b, ch, protocol.PublishOptions{})
	time.Sleep(200 * time.Millisecond)
	if got := rec.count(ch); got != 2 {
		t.Errorf("%d deliveries after the last Unsubscribe, want 2", got)
	}
}

// TestRedisPresenceExpiry: a node's presence entries and its registry entry
// live while it refreshes them, and expire once it stops (killed: no
// RemovePresence). entryTTL is shortened from 20 s to 1 s for the test,
// which therefore must not run in parallel with another Redis test.
func TestRedisPresenceExpiry(t *testing.T) {
	oldTTL, oldEvery := entryTTL, refreshEvery
	entryTTL, refreshEvery = time.Second, 100*time.Millisecond
	t.Cleanup(func() { entryTTL, refreshEvery = oldTTL, oldEvery })

	srv := redistest.Start(t, redistest.Options{})
	nodeA, nodeB := protocol.NodeInfo{Node: "a"}, protocol.NodeInfo{Node: "b"}
	a := startRedis(t, srv.URL(), nodeA, newRecorder(t))
	b := startRedis(t, srv.URL(), nodeB, newRecorder(t))
	ctx := t.Context()
	const ch = "room"
	ca := protocol.ClientInfo{User: "alice", Client: "ca", Node: "a"}
	cb := protocol.ClientInfo{User: "bob", Client: "cb", Node: "b"}
	if err := a.AddPresence(ctx, ch, ca); err != nil {
		t.Fatal(err)
	}
	if err := b.AddPresence(ctx, ch, cb); err != nil {
		t.Fatal(err)
	}
	// Twice the TTL: only the refresh keeps the entries.
	time.Sleep(2 * entryTTL)
	checkCluster(t, b, ch, []protocol.ClientInfo{ca, cb}, []protocol.NodeInfo{nodeA, nodeB})

	a.Stop()
	stopped := time.Now()
	poll(t, "node a's entries expire", func() error {
		return clusterIs(b, ch, []protocol.ClientInfo{cb}, []protocol.NodeInfo{nodeB})
	})
	t.Logf("node a's entries gone %v after it stopped (entryTTL %v)", time.Since(stopped).Round(time.Millisecond), entryTTL)
}

func checkCluster(t *testing.T, b *redisNode, ch string, wantPres []protocol.ClientInfo, wantNodes []protocol.NodeInfo) {
	t.Helper()
	if err := clusterIs(b, ch, wantPres, wantNodes); err != nil {
		t.Fatal(err)
	}
}

// clusterIs compares what b reads of ch's presence and of the registry.
func clusterIs(b *redisNode, ch string, wantPres []protocol.ClientInfo, wantNodes []protocol.NodeInfo) error {
	pres, err := b.Presence(context.Background(), ch)
	if err != nil {
		return err
	}
	nodes, err := b.Nodes(context.Background())
	if err != nil {
		return err
	}
	if diff := cmp.Diff(wantPres, pres); diff != "" {
		return fmt.Errorf("presence (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantNodes, nodes); diff != "" {
		return fmt.Errorf("nodes (-want +got):\n%s", diff)
	}
	return nil
}

// TestRedisDisconnectAcrossNodes: a Disconnect on one node reaches every
// node's handler, its own included.
func TestRedisDisconnectAcrossNodes(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	recA, recB := newRecorder(t), newRecorder(t)
	a := startRedis(t, srv.URL(), protocol.NodeInfo{Node: "a"}, recA)
	startRedis(t, srv.URL(), protocol.NodeInfo{Node: "b"}, recB)
	if err := a.Disconnect(t.Context(), "bob"); err != nil {
		t.Fatal(err)
	}
	for name, rec := range map[string]*recorder{"b": recB, "a": recA} {
		if diff := cmp.Diff([]string{"bob"}, rec.waitUsers(t, 1)); diff != "" {
			t.Errorf("node %s: disconnected users (-want +got):\n%s", name, diff)
		}
	}
}

// TestRedisSentinelFailover: the broker follows a Sentinel failover
// without a restart: publishing resumes, and a subscribing node receives
// what is published after the failover.
func TestRedisSentinelFailover(t *testing.T) {
	s := redistest.StartSentinel(t)
	rec := newRecorder(t)
	sub := startRedis(t, s.URL(), protocol.NodeInfo{Node: "sub"}, rec)
	pub := startRedis(t, s.URL(), protocol.NodeInfo{Node: "pub"}, newRecorder(t))
	const ch = "failover"
	if err := sub.Subscribe(t.Context(), ch); err != nil {
		t.Fatal(err)
	}
	before := publishN(t, pub, ch, 3)
	rec.waitPubs(t, ch, 3)

	s.FailMaster(t)
	first := publishUntilUp(t, pub, ch)
	t.Logf("first publish after the failover at %+v (before: %+v)", first, before)
	var last protocol.Position
	for range 3 {
		last = publish(t, pub, ch, protocol.PublishOptions{})
	}
	waitPosition(t, rec, ch, last)
}

// gauge reads an unlabelled gauge from reg.
func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("%s has no single series", name)
	return 0
}

// counter reads the series op=op of a counter from reg.
func counter(t *testing.T, reg *prometheus.Registry, name, op string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "op" && l.GetValue() == op {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("%s has no series op=%q", name, op)
	return 0
}

// TestRedisSubscribeBeforeRun: a node's server listens as soon as it starts,
// so a session may subscribe before the broker's Run goroutine has been
// scheduled. The subscription waits for Run and then works; it once
// panicked, finding no pub/sub connection for its channel.
func TestRedisSubscribeBeforeRun(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	rec := newRecorder(t)
	r, err := NewRedis(RedisOptions{URL: srv.URL(), HistorySize: suiteHistorySize, HistoryTTL: time.Minute,
		Node: func() protocol.NodeInfo { return suiteNode }, Log: slog.New(slog.DiscardHandler),
		Metrics: NewMetrics(prometheus.NewRegistry())}, rec)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	subscribed := make(chan error, 1)
	go func() { subscribed <- r.Subscribe(context.Background(), "early") }()
	time.Sleep(100 * time.Millisecond) // the Subscribe is waiting, or has failed
	select {
	case err := <-subscribed:
		t.Fatalf("Subscribe returned before Run: %v", err)
	default:
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(ctx) }()
	defer func() { cancel(); <-done }()
	if err := <-subscribed; err != nil {
		t.Fatalf("Subscribe before Run: %v", err)
	}
	publishN(t, r, "early", 3)
	if got := rec.waitPubs(t, "early", 3); got[2].Offset != 3 {
		t.Fatalf("publications %v", got)
	}
}
