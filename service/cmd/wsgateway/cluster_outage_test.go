package main

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// TestClusterRedisKilled kills Redis (SIGKILL) under a steady stream of
// publishes and brings it back empty. Meanwhile publishes fail fast with
// unavailable, every node stays ready and keeps its connections, and
// publishing resumes by itself. A subscriber from before the outage is
// told (unsub, or recovered:false when it resubscribes), never left with
// a silent gap.
func TestClusterRedisKilled(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	nodes := startCluster(t, srv, []string{"node-a", "node-b", "node-c"})
	a, b, c := nodes[0], nodes[1], nodes[2]
	const ch = "outage:live"
	told, resub := watch(t, b, ""), watch(t, c, "") // waits for the unsub; resubscribes at once
	for _, w := range []*watcher{told, resub} {
		w.must(t, protocol.Command{Op: protocol.OpSubscribe, Channel: ch})
	}
	pub := startPublisher(t, a, []string{ch}, 10*time.Millisecond)
	within(t, 10*time.Second, func() bool { return lastOffset(told, ch) >= 20 && lastOffset(resub, ch) >= 20 },
		func() string {
			return "no steady delivery before the kill: " + told.describe(ch) + " / " + resub.describe(ch)
		})

	srv.Kill()
	killed := time.Now()
	opened := waitBreakerOpen(t, a)
	within(t, 10*time.Second, func() bool { return pub.count(opened, refused) >= 30 },
		func() string { return "publishes did not keep failing with unavailable" })
	for _, g := range nodes {
		if code, _ := httpGet(t, "http://"+g.Admin+"/readyz"); code != http.StatusOK {
			t.Fatalf("readyz of %s during the outage: %d, want 200", g.Admin, code)
		}
	}
	for _, w := range []*watcher{told, resub} {
		w.must(t, protocol.Command{Op: protocol.OpPing}) // the connections stay open
	}

	srv.Restart(t)
	restarted := time.Now()
	within(t, 15*time.Second, func() bool { return pub.count(restarted, succeeded) > 0 },
		func() string { return "publishing did not resume after Redis came back" })
	resumed := firstAfter(pub.snapshot(), restarted, succeeded)

	recoverFrom(t, resub, ch) // without waiting to be told
	within(t, 10*time.Second, func() bool { return endedByUnsub(told, ch) },
		func() string { return "no unsub after the restart: " + told.describe(ch) })
	recoverFrom(t, told, ch)
	resubscribed := time.Now()
	within(t, 10*time.Second, func() bool { return pub.count(resubscribed, succeeded) >= 20 },
		func() string { return "publishing stopped" })

	results := pub.halt()
	final, epoch := position(t, a, ch)
	for _, w := range []*watcher{told, resub} {
		within(t, 10*time.Second, func() bool { return lastOffset(w, ch) == final },
			func() string { return fmt.Sprintf("not at %d: %s", final, w.describe(ch)) })
		subs, violations := w.replay(ch)
		if len(violations) > 0 || len(subs) != 2 || subs[1].recovered || subs[1].epoch != epoch {
			t.Fatalf("want no violation and two subscriptions, the second not recovered in epoch %s: %v %s", epoch, violations, summary(subs))
		}
	}
	checkOutageResults(t, results, killed, restarted)
	reportOutage(t, results, killed, opened, restarted, resumed)
}

// refused: the publish was answered 503 unavailable.
func refused(r pubResult) bool {
	return r.err == nil && r.status == http.StatusServiceUnavailable && r.code == "unavailable"
}

// waitBreakerOpen waits for g's breaker to report open and returns when.
func waitBreakerOpen(t *testing.T, g *gw) time.Time {
	t.Helper()
	within(t, 10*time.Second, func() bool { return metric(t, g, "redis_breaker_state") == 2 },
		func() string { return "the breaker did not open" })
	return time.Now()
}

// recoverFrom ends w's subscription to ch (if the server has not already)
// and subscribes again with recovery from the last position w saw, which
// the restarted Redis no longer has.
func recoverFrom(t *testing.T, w *watcher, ch string) {
	t.Helper()
	subs, _ := w.replay(ch)
	last := subs[len(subs)-1]
	w.must(t, protocol.Command{Op: protocol.OpUnsubscribe, Channel: ch})
	res := w.subscribeRetry(t, protocol.Command{Op: protocol.OpSubscribe, Channel: ch, Recover: true, Offset: last.last(), Epoch: last.epoch})
	if res.Recovered || res.Epoch == last.epoch {
		t.Fatalf("recovery from %d in epoch %s after Redis restarted empty: %+v, want recovered:false in a new epoch", last.last(), last.epoch, res)
	}
}

// endedByUnsub reports whether w's latest subscription to ch ended with an
// unsub push.
func endedByUnsub(w *watcher, ch string) bool {
	subs, _ := w.replay(ch)
	return len(subs) > 0 && subs[len(subs)-1].ended == "unsub"
}

func firstAfter(results []pubResult, since time.Time, ok func(pubResult) bool) time.Time {
	for _, r := range results {
		if !r.start.Before(since) && ok(r) {
			return r.start.Add(r.latency)
		}
	}
	return time.Time{}
}

// checkOutageResults: publishes succeed before the kill and fail only with
// 503 unavailable while Redis is away; none fails otherwise.
func checkOutageResults(t *testing.T, results []pubResult, killed, restarted time.Time) {
	t.Helper()
	for _, r := range results {
		if succeeded(r) || (r.start.After(killed.Add(-time.Second)) && refused(r)) {
			continue
		}
		t.Fatalf("publish at %v (kill %v, restart %v): status %d code %q err %v", r.start.Format(time.StampMilli),
			killed.Format(time.StampMilli), restarted.Format(time.StampMilli), r.status, r.code, r.err)
	}
}

// reportOutage logs the measured figures: no assertion on them.
func reportOutage(t *testing.T, results []pubResult, killed, opened, restarted, resumed time.Time) {
	var closedFail, openFail []time.Duration
	for _, r := range results {
		switch {
		case !refused(r):
		case r.start.Before(opened):
			closedFail = append(closedFail, r.latency)
		default:
			openFail = append(openFail, r.latency)
		}
	}
	t.Logf("outage: breaker seen open %v after the kill; refused publishes before that: %s; with the breaker open: %s",
		opened.Sub(killed).Round(time.Millisecond), latencyStats(closedFail), latencyStats(openFail))
	t.Logf("outage: Redis answered again %v after the kill; first publish succeeded %v after the restart",
		restarted.Sub(killed).Round(time.Millisecond), resumed.Sub(restarted).Round(time.Millisecond))
}

// TestClusterRedisRestartWithData: with the AOF on, Redis killed and
// restarted has its data back but a new replication ID, and the gateway
// cannot tell whether the AOF lost its last second (appendfsync everysec):
// the channel starts a new epoch. A client that saw offset 2 gets
// recovered:false on a node that never served the channel, never offsets
// that a lost tail might have reused, and then the live publications of the
// new epoch.
func TestClusterRedisRestartWithData(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{AppendOnly: true})
	nodes := startCluster(t, srv, []string{"node-a", "node-b"})
	a, b := nodes[0], nodes[1]
	const ch = "aof:kept"
	var epoch string
	for i := 0; i < 5; i++ {
		epoch = apiPublish(t, a, "", ch, fmt.Sprint(i)).Epoch
	}
	srv.Kill()
	srv.Restart(t)
	w := watch(t, b, "")
	res := w.subscribeRetry(t, protocol.Command{Op: protocol.OpSubscribe, Channel: ch, Recover: true, Offset: 2, Epoch: epoch})
	if res.Recovered || res.Epoch == epoch || res.Offset != 0 || len(res.Publications) != 0 {
		t.Fatalf("recovery after the restart: %+v, want recovered:false at offset 0 in a new epoch (old %s)", res, epoch)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	publishWhenAvailable(ctx, t, a, ch)
	within(t, 10*time.Second, func() bool { return lastOffset(w, ch) == 1 }, func() string { return "offset 1 not delivered live" })
	if subs, violations := w.replay(ch); len(violations) > 0 || !equal(subs[0].offsets, seq(1, 1)) || subs[0].epoch != res.Epoch {
		t.Fatalf("%v %s", violations, summary(subs))
	}
}

// publishWhenAvailable publishes once through g's API, retrying while the
// answer is unavailable, until ctx ends.
func publishWhenAvailable(ctx context.Context, t *testing.T, g *gw, ch string) {
	t.Helper()
	for {
		code, res, err := postJSON(g, "/api/v1/publish", fmt.Sprintf(`{"channel":%q,"data":"after"}`, ch))
		if err == nil && code == http.StatusOK {
			return
		}
		if apiErrCode(res) != protocol.CodeUnavailable || ctx.Err() != nil {
			t.Fatalf("publish after the restart: %d %s %v", code, res, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
