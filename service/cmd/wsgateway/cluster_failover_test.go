package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
)

// failoverRun is the common frame of the tests where a node goes away
// under load: Go clients, each through its own proxy to the node that will
// go away, subscribed to channels that a publisher feeds through the API
// of a surviving node the whole time.
type failoverRun struct {
	channels []string
	logs     []*clientLog
	proxies  []*proxy
	pub      *publisher
}

// startFailoverRun connects n clients to victim, subscribes them, starts
// publishing through publishVia and waits until every client receives.
func startFailoverRun(t *testing.T, victim, publishVia *gw, n int, channels []string) *failoverRun {
	t.Helper()
	r := &failoverRun{channels: channels}
	for i := 0; i < n; i++ {
		px := startProxy(t, victim.Client)
		l := newClientLog()
		subscribeAll(t, startClient(t, l.options(px.url())), channels)
		r.logs, r.proxies = append(r.logs, l), append(r.proxies, px)
	}
	subscribed := func(l *clientLog) bool { return l.subscribedCount(false) == len(channels) }
	within(t, 10*time.Second, func() bool { return r.all(subscribed) }, func() string { return "clients did not subscribe" })
	r.pub = startPublisher(t, publishVia, channels, 5*time.Millisecond)
	r.waitProgress(t, 10)
	return r
}

// all reports whether every client's log satisfies ok.
func (r *failoverRun) all(ok func(*clientLog) bool) bool {
	for _, l := range r.logs {
		if !ok(l) {
			return false
		}
	}
	return true
}

// waitProgress waits until every client received at least more further
// publications on every channel than the publisher had made when called.
func (r *failoverRun) waitProgress(t *testing.T, more uint64) {
	t.Helper()
	target := map[string]uint64{}
	for _, res := range r.pub.snapshot() {
		target[res.channel] = max(target[res.channel], res.offset)
	}
	within(t, 15*time.Second, func() bool {
		return r.all(func(l *clientLog) bool {
			for _, ch := range r.channels {
				if l.last(ch) < target[ch]+more {
					return false
				}
			}
			return true
		})
	}, func() string { return fmt.Sprintf("clients did not reach %v + %d", target, more) })
}

// finish stops publishing and checks that every client ends with every
// publication of every channel, once each and in order.
func (r *failoverRun) finish(t *testing.T, g *gw) {
	t.Helper()
	checkAllSucceeded(t, r.pub.halt())
	for _, ch := range r.channels {
		final, _ := position(t, g, ch)
		for i, l := range r.logs {
			within(t, 10*time.Second, func() bool { return l.last(ch) == final }, func() string {
				return fmt.Sprintf("client %d: %s", i, l.check(ch, final))
			})
			if msg := l.check(ch, final); msg != "" {
				t.Fatalf("client %d: %s", i, msg)
			}
		}
		t.Logf("%s: %d clients each got offsets 1..%d exactly once, in order", ch, len(r.logs), final)
	}
}

// TestClusterNodeKilled: SIGKILL a gateway process under load. Its clients
// reconnect (the proxy now points at a survivor), recover from Redis's
// history, and end with every publication: none lost, none repeated.
func TestClusterNodeKilled(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	victim := startBinary(t, "--redis-url", srv.URL(), "--node-id", "victim")
	survivors := startCluster(t, srv, []string{"node-b", "node-c"})
	r := startFailoverRun(t, victim, survivors[0], 10, []string{"kill:0", "kill:1"})

	victim.Kill(t) // our own child, by PID; returns once it exited
	killed := time.Now()
	noticed := func(l *clientLog) bool { _, _, ok := l.firstDisconnect(); return ok }
	within(t, 10*time.Second, func() bool { return r.all(noticed) }, func() string { return "clients did not notice the node died" })
	time.Sleep(300 * time.Millisecond) // publications keep coming while nobody serves these clients
	for _, px := range r.proxies {
		px.restore(survivors[1].Client)
	}
	restored := time.Now()
	within(t, 15*time.Second, func() bool {
		return r.all(func(l *clientLog) bool { return l.subscribedCount(true) >= len(r.channels) })
	}, func() string { return "clients did not resubscribe" })
	t.Logf("every client recovered %v after the proxies pointed at a survivor (%v after the kill)",
		time.Since(restored).Round(time.Millisecond), time.Since(killed).Round(time.Millisecond))
	r.waitProgress(t, 10)
	r.finish(t, survivors[0])
	logRecovered(t, r.logs)
}

// TestClusterDrainUnderLoad: SIGTERM a gateway process with 20 clients
// under load. The proxies point at a survivor right after the signal; the
// node closes its connections spread over the drain window, the clients
// reconnect and recover, and end with every publication exactly once.
func TestClusterDrainUnderLoad(t *testing.T) {
	t.Parallel()
	const window = 2 * time.Second
	srv := redistest.Start(t, redistest.Options{})
	victim := startBinary(t, "--redis-url", srv.URL(), "--node-id", "draining", "--drain-delay", "0s", "--drain-window", window.String())
	survivor := startCluster(t, srv, []string{"node-b"})[0]
	r := startFailoverRun(t, victim, survivor, 20, []string{"drain:load"})

	victim.Signal(t)
	signalled := time.Now()
	for _, px := range r.proxies {
		px.restore(survivor.Client)
	}
	if code := victim.Wait(t, window+15*time.Second); code != 0 {
		t.Fatalf("drained node exited %d, want 0; logs:\n%s", code, victim.Logs.String())
	}
	within(t, 15*time.Second, func() bool {
		return r.all(func(l *clientLog) bool { return l.subscribedCount(true) >= 1 })
	}, func() string { return "clients did not resubscribe" })
	var first, last time.Time
	for i, l := range r.logs {
		ev, at, _ := l.firstDisconnect()
		if ev.Code != 1012 || !ev.Reconnect {
			t.Fatalf("client %d: disconnect %+v, want 1012 with reconnect", i, ev)
		}
		if first.IsZero() || at.Before(first) {
			first = at
		}
		if at.After(last) {
			last = at
		}
	}
	t.Logf("drain: disconnects from %v to %v after SIGTERM (window %v)", first.Sub(signalled).Round(time.Millisecond),
		last.Sub(signalled).Round(time.Millisecond), window)
	if spread := last.Sub(first); spread < window/2 {
		t.Fatalf("disconnects spread over %v, want at least half the %v window", spread, window)
	}
	r.waitProgress(t, 10)
	r.finish(t, survivor)
	logRecovered(t, r.logs)
}

// logRecovered logs how many publications the clients got back through
// recovery (the resubscribe replies), in all.
func logRecovered(t *testing.T, logs []*clientLog) {
	var resubs int
	var brought uint64
	for _, l := range logs {
		l.mu.Lock()
		resubs += l.recoveries
		brought += l.recoveredPubs
		l.mu.Unlock()
	}
	t.Logf("%d resubscriptions, all recovered, brought back %d publications", resubs, brought)
}
