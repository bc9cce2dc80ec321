package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// The Sentinel failover tests: a master, a replica and three sentinels, two
// nodes on redis-sentinel://, each publishing through its API to its own
// channel every few milliseconds, and a planned failover (SENTINEL
// FAILOVER) in the middle, and another one back. For up to about a second
// after a promotion the old master still accepts the nodes' writes, which
// the promoted replica never gets. (How long depends on when the sentinels
// next poll the promoted replica, so some failovers lose nothing; two make
// a loss likely.)

// TestClusterSentinelFailover: by default a publish is acknowledged on the
// master's write, so what the old master accepted after the promotion is
// lost. What must hold: no (epoch, offset) is ever acknowledged or delivered
// for two different publications, because the promoted master starts a new
// epoch; a client recovering from the old epoch gets recovered:false, never
// other publications under offsets it has seen.
func TestClusterSentinelFailover(t *testing.T) {
	t.Parallel()
	run := startSentinelRun(t)
	run.failovers(t)
	results := run.finish(t)
	acked := checkAcked(t, results)
	run.checkWatchers(t, acked)
	for _, ch := range sentinelChannels {
		old, newEpoch := run.before[ch], run.epochAfter(t, ch)
		if newEpoch == old.Epoch {
			t.Errorf("%s: epoch %s stayed across the failover", ch, old.Epoch)
		}
		res := run.recoverFrom(t, ch, old)
		if res.Recovered || res.Epoch != newEpoch {
			t.Errorf("%s: recovery from %d in the old epoch %s: %+v, want recovered:false in %s", ch, old.Offset, old.Epoch, res, newEpoch)
		}
		checkPublications(t, ch, acked, res)
		inHistory(t, run.nodes[0], ch, acked, newEpoch)
	}
}

// TestClusterSentinelFailoverDurable: with --redis-min-replicas 1 a publish
// is acknowledged only once the replica holds it. Every acknowledged
// publication is in history after the failover, the epoch stays, and a
// client that saw an offset before the failover recovers from it.
func TestClusterSentinelFailoverDurable(t *testing.T) {
	t.Parallel()
	run := startSentinelRun(t, "--redis-min-replicas", "1")
	run.failovers(t)
	results := run.finish(t)
	acked := checkAcked(t, results)
	run.checkWatchers(t, acked)
	for _, ch := range sentinelChannels {
		old := run.before[ch]
		if e := run.epochAfter(t, ch); e != old.Epoch {
			t.Errorf("%s: epoch %s after the failover, want %s kept", ch, e, old.Epoch)
		}
		res := run.recoverFrom(t, ch, old)
		if !res.Recovered {
			t.Errorf("%s: recovery from %d in epoch %s: %+v, want recovered:true", ch, old.Offset, old.Epoch, res)
		}
		checkPublications(t, ch, acked, res)
		if n := inHistory(t, run.nodes[0], ch, acked, old.Epoch); n != len(acked[ch]) {
			t.Errorf("%s: %d of %d acknowledged publications in history", ch, n, len(acked[ch]))
		}
	}
}

// sentinelChannels: node i publishes to sentinelChannels[i].
var sentinelChannels = []string{"fo:a", "fo:b"}

// sentinelRun is the frame of both tests.
type sentinelRun struct {
	s        *redistest.Sentinel
	nodes    []*gw
	pubs     []*publisher
	watchers []*watcher     // one per node, subscribed to both channels
	before   map[string]pos // just before the first failover
}

// pos is a channel position as a client saw it.
type pos struct {
	Offset uint64
	Epoch  string
}

func startSentinelRun(t *testing.T, extra ...string) *sentinelRun {
	t.Helper()
	r := &sentinelRun{s: redistest.StartSentinel(t), before: map[string]pos{}}
	for _, id := range []string{"node-a", "node-b"} {
		args := append([]string{"--dev", "--redis-url", r.s.URL(), "--node-id", id, "--history-size", "100000"}, extra...)
		r.nodes = append(r.nodes, startNode(t, args...))
	}
	for _, g := range r.nodes {
		w := watch(t, g, "")
		for _, ch := range sentinelChannels {
			w.must(t, protocol.Command{Op: protocol.OpSubscribe, Channel: ch})
		}
		r.watchers = append(r.watchers, w)
	}
	for i, g := range r.nodes {
		r.pubs = append(r.pubs, startPublisher(t, g, sentinelChannels[i:i+1], 5*time.Millisecond))
	}
	within(t, 10*time.Second, func() bool { return r.succeeded(time.Time{}) >= 50 }, func() string { return "no steady publishing" })
	for _, ch := range sentinelChannels {
		off, epoch := position(t, r.nodes[0], ch)
		r.before[ch] = pos{Offset: off, Epoch: epoch}
	}
	return r
}

// succeeded counts the acknowledged publishes of every publisher since.
func (r *sentinelRun) succeeded(since time.Time) int {
	n := 0
	for _, p := range r.pubs {
		n += p.count(since, succeeded)
	}
	return n
}

// failovers fails the master over to the replica, and back, each time
// waiting until both nodes publish again.
func (r *sentinelRun) failovers(t *testing.T) {
	t.Helper()
	for range 2 {
		asked := time.Now()
		r.s.Failover(t)
		switched := time.Now()
		t.Logf("failover: took %v", switched.Sub(asked).Round(time.Millisecond))
		within(t, 30*time.Second, func() bool {
			for _, p := range r.pubs {
				if p.count(switched, succeeded) < 50 {
					return false
				}
			}
			return true
		}, func() string { return "publishing did not resume on both nodes after the failover" })
		t.Logf("failover: publishing resumed %v after the new master took over", time.Since(switched).Round(time.Millisecond))
	}
}

// finish stops publishing and returns every attempt.
func (r *sentinelRun) finish(t *testing.T) []pubResult {
	t.Helper()
	var all []pubResult
	for _, p := range r.pubs {
		all = append(all, p.halt()...)
	}
	refused := 0
	for _, res := range all {
		if !succeeded(res) {
			refused++
		}
	}
	t.Logf("%d publishes, %d acknowledged, %d refused (503 during the failover)", len(all), len(all)-refused, refused)
	return all
}

// epochAfter is ch's epoch once publishing resumed.
func (r *sentinelRun) epochAfter(t *testing.T, ch string) string {
	t.Helper()
	_, epoch := position(t, r.nodes[1], ch)
	return epoch
}

// recoverFrom subscribes a new client with recovery from p.
func (r *sentinelRun) recoverFrom(t *testing.T, ch string, p pos) protocol.SubscribeResult {
	t.Helper()
	w := watch(t, r.nodes[1], "")
	return w.subscribeRetry(t, protocol.Command{Op: protocol.OpSubscribe, Channel: ch, Recover: true, Offset: p.Offset, Epoch: p.Epoch})
}

// checkWatchers: the subscribers saw every publication at most once, in
// order, with every gap announced, and nothing under an acknowledged
// position but that publication.
func (r *sentinelRun) checkWatchers(t *testing.T, acked map[string]map[pos]int) {
	t.Helper()
	for i, w := range r.watchers {
		for _, ch := range sentinelChannels {
			subs, violations := w.replay(ch)
			if len(violations) > 0 {
				t.Errorf("watcher %d, %s: %v %s", i, ch, violations, summary(subs))
			}
			for _, s := range subs {
				for j, off := range s.offsets {
					if n, ok := acked[ch][pos{off, s.epoch}]; ok && dataN(s.data[j]) != n {
						t.Errorf("watcher %d, %s: offset %d of epoch %s delivered {n:%d}, acknowledged for {n:%d}", i, ch, off, s.epoch, dataN(s.data[j]), n)
					}
				}
			}
		}
	}
}

// checkAcked maps every acknowledged publish to its position, per channel,
// and fails the test when a position was acknowledged to two publications.
func checkAcked(t *testing.T, results []pubResult) map[string]map[pos]int {
	t.Helper()
	acked := map[string]map[pos]int{}
	dups := 0
	for _, res := range results {
		if !succeeded(res) {
			continue
		}
		if acked[res.channel] == nil {
			acked[res.channel] = map[pos]int{}
		}
		p := pos{res.offset, res.epoch}
		if n, ok := acked[res.channel][p]; ok && n != res.n {
			if dups++; dups <= 5 {
				t.Errorf("%s: offset %d of epoch %s acknowledged to {n:%d} and to {n:%d}", res.channel, p.Offset, p.Epoch, n, res.n)
			}
			continue
		}
		acked[res.channel][p] = res.n
	}
	if dups > 0 {
		t.Fatalf("%d positions acknowledged twice", dups)
	}
	return acked
}

// checkPublications: the publications of a subscribe reply are the ones
// acknowledged under their positions.
func checkPublications(t *testing.T, ch string, acked map[string]map[pos]int, res protocol.SubscribeResult) {
	t.Helper()
	for _, p := range res.Publications {
		key := pos{p.Offset, p.Epoch}
		if n, ok := acked[ch][key]; ok && dataN(p.Data) != n {
			t.Errorf("%s: recovery brought offset %d of epoch %s as {n:%d}, acknowledged for {n:%d}", ch, key.Offset, key.Epoch, dataN(p.Data), n)
		}
	}
}

// inHistory checks that every publication acknowledged in epoch is in ch's
// history, unchanged, and returns how many there are.
func inHistory(t *testing.T, g *gw, ch string, acked map[string]map[pos]int, epoch string) int {
	t.Helper()
	stored := map[uint64]int{}
	for since := uint64(0); ; {
		path := fmt.Sprintf("/api/v1/history?channel=%s&since=%d&limit=1000", url.QueryEscape(ch), since)
		code, res := apiCall(t, g, "GET", path, "", "")
		if code != http.StatusOK {
			t.Fatalf("history %s since %d: %d %s", ch, since, code, res)
		}
		h := typed[protocol.HistoryResult](t, res)
		if h.Epoch != epoch {
			t.Fatalf("history %s since %d: epoch %s, want %s", ch, since, h.Epoch, epoch)
		}
		pubs := h.Publications
		if len(pubs) == 0 {
			break
		}
		for _, p := range pubs {
			since = p.Offset
			stored[since] = dataN(p.Data)
		}
	}
	found := 0
	for p, n := range acked[ch] {
		if p.Epoch != epoch {
			continue
		}
		got, ok := stored[p.Offset]
		switch {
		case !ok:
			t.Errorf("%s: acknowledged offset %d ({n:%d}) of epoch %s is not in history", ch, p.Offset, n, epoch)
		case got != n:
			t.Errorf("%s: offset %d of epoch %s is {n:%d} in history, acknowledged for {n:%d}", ch, p.Offset, epoch, got, n)
		default:
			found++
		}
	}
	return found
}

// dataN reads n from a publication's data {"n":n}; -1 when it is anything
// else. It never fails the test: callers report the mismatch with context.
func dataN(data json.RawMessage) int {
	var v struct {
		N *int `json:"n"`
	}
	if decodeStrict(data, &v) != nil || v.N == nil {
		return -1
	}
	return *v.N
}
