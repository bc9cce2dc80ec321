package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wsgateway/wsgateway/service/client"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// pubResult is one publish a publisher made through the API.
type pubResult struct {
	channel string
	start   time.Time
	latency time.Duration
	status  int    // 0 when the request itself failed
	code    string // error.code of a refused publish
	offset  uint64
	epoch   string
	n       int   // the publication's {"n":n}, unique per publisher
	err     error // transport failure or a body that is not JSON
}

// publisher publishes {"n":i} through one node's API every interval,
// round-robin over its channels, until halt. It records every attempt.
type publisher struct {
	stopCh chan struct{}
	done   chan struct{}
	once   sync.Once

	mu      sync.Mutex
	results []pubResult
}

func startPublisher(t *testing.T, g *gw, channels []string, every time.Duration) *publisher {
	p := &publisher{stopCh: make(chan struct{}), done: make(chan struct{})}
	go p.loop(g, channels, every)
	t.Cleanup(func() { p.halt() })
	return p
}

func (p *publisher) loop(g *gw, channels []string, every time.Duration) {
	defer close(p.done)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for i := 0; ; i++ {
		ch := channels[i%len(channels)]
		r := pubResult{channel: ch, start: time.Now(), n: i}
		var body json.RawMessage
		r.status, body, r.err = postJSON(g, "/api/v1/publish", fmt.Sprintf(`{"channel":%q,"data":{"n":%d}}`, ch, i))
		r.latency = time.Since(r.start)
		r.code = apiErrCode(body)
		if r.err == nil && r.status == http.StatusOK {
			// Off the test goroutine: a body that is no Position is an error
			// of this attempt, which the checks report.
			var p protocol.Position
			if err := decodeStrict(body, &p); err != nil {
				r.err = fmt.Errorf("publish answer %s: %w", body, err)
			}
			r.offset, r.epoch = p.Offset, p.Epoch
		}
		p.mu.Lock()
		p.results = append(p.results, r)
		p.mu.Unlock()
		select {
		case <-p.stopCh:
			return
		case <-tick.C:
		}
	}
}

// halt stops publishing and returns every attempt; it may be called again.
func (p *publisher) halt() []pubResult {
	p.once.Do(func() { close(p.stopCh) })
	<-p.done
	return p.snapshot()
}

func (p *publisher) snapshot() []pubResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.results)
}

// count counts the attempts that started after since and satisfy ok.
func (p *publisher) count(since time.Time, ok func(pubResult) bool) int {
	n := 0
	for _, r := range p.snapshot() {
		if !r.start.Before(since) && ok(r) {
			n++
		}
	}
	return n
}

func succeeded(r pubResult) bool { return r.err == nil && r.status == 200 }

// checkAllSucceeded fails the test unless every attempt was published.
func checkAllSucceeded(t *testing.T, results []pubResult) {
	t.Helper()
	for _, r := range results {
		if !succeeded(r) {
			t.Fatalf("publish on %s at %v failed: status %d code %q err %v", r.channel, r.start.Format(time.StampMilli), r.status, r.code, r.err)
		}
	}
}

// clientLog records what one Go client delivered through its callbacks.
type clientLog struct {
	mu          sync.Mutex
	pubs        map[string][]client.Publication
	subs        []client.SubscribedEvent
	failed      []string
	unsubs      []string
	disconnects []client.DisconnectEvent
	discAt      []time.Time
	// Recoveries: resubscriptions with recovery, and the publications
	// their replies brought back (from the last offset at the disconnect).
	atDisconnect  map[string]uint64
	recoveries    int
	recoveredPubs uint64
}

func newClientLog() *clientLog { return &clientLog{pubs: map[string][]client.Publication{}} }

func (l *clientLog) options(url string) client.Options {
	return client.Options{
		URL: url, BackoffBase: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond,
		OnPublication:    func(p client.Publication) { l.record(func() { l.pubs[p.Channel] = append(l.pubs[p.Channel], p) }) },
		OnSubscribed:     func(e client.SubscribedEvent) { l.record(func() { l.subscribed(e) }) },
		OnRecoveryFailed: func(ch string) { l.record(func() { l.failed = append(l.failed, ch) }) },
		OnUnsubscribed:   func(ch, reason string) { l.record(func() { l.unsubs = append(l.unsubs, ch+": "+reason) }) },
		OnDisconnected:   func(e client.DisconnectEvent) { l.record(func() { l.disconnected(e) }) },
	}
}

// subscribed and disconnected run under mu.
func (l *clientLog) subscribed(e client.SubscribedEvent) {
	l.subs = append(l.subs, e)
	if e.WasRecovering && e.Recovered {
		l.recoveries++
		if from, ok := l.atDisconnect[e.Channel]; ok && e.Offset >= from {
			l.recoveredPubs += e.Offset - from // for the report only
		}
	}
}

func (l *clientLog) disconnected(e client.DisconnectEvent) {
	l.disconnects, l.discAt = append(l.disconnects, e), append(l.discAt, time.Now())
	l.atDisconnect = map[string]uint64{}
	for ch, ps := range l.pubs {
		if len(ps) > 0 {
			l.atDisconnect[ch] = ps[len(ps)-1].Offset
		}
	}
}

func (l *clientLog) record(f func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f()
}

// last returns the offset of the last publication delivered on ch.
func (l *clientLog) last(ch string) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ps := l.pubs[ch]; len(ps) > 0 {
		return ps[len(ps)-1].Offset
	}
	return 0
}

// subscribedCount counts the accepted subscribes, the resubscriptions
// with recovery included.
func (l *clientLog) subscribedCount(recovering bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.subs {
		if e.WasRecovering == recovering {
			n++
		}
	}
	return n
}

// firstDisconnect returns the first disconnect and when it happened.
func (l *clientLog) firstDisconnect() (client.DisconnectEvent, time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.disconnects) == 0 {
		return client.DisconnectEvent{}, time.Time{}, false
	}
	return l.disconnects[0], l.discAt[0], true
}

// check returns "" when ch's publications are exactly 1..final in one
// epoch, every resubscription recovered, and the client was never told to
// resync; otherwise what is wrong.
func (l *clientLog) check(ch string, final uint64) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var offsets []uint64
	for _, p := range l.pubs[ch] {
		if p.Epoch != l.pubs[ch][0].Epoch {
			return fmt.Sprintf("%s: epoch changed from %s to %s at offset %d", ch, l.pubs[ch][0].Epoch, p.Epoch, p.Offset)
		}
		offsets = append(offsets, p.Offset)
	}
	if !equal(offsets, seq(1, final)) {
		return fmt.Sprintf("%s: %d publications, want 1..%d: %s", ch, len(offsets), final, describeOffsets(offsets))
	}
	if len(l.failed) > 0 || len(l.unsubs) > 0 {
		return fmt.Sprintf("recovery failed on %v, unsubscribed %v", l.failed, l.unsubs)
	}
	for _, e := range l.subs {
		if e.WasRecovering && !e.Recovered {
			return fmt.Sprintf("%s: resubscribed without recovery: %+v", e.Channel, e)
		}
	}
	return ""
}

// describeOffsets names the gaps and repeats in offsets, for failures.
func describeOffsets(offsets []uint64) string {
	var out []string
	for i := 1; i < len(offsets); i++ {
		if d := offsets[i]; d != offsets[i-1]+1 {
			out = append(out, fmt.Sprintf("%d after %d", d, offsets[i-1]))
		}
	}
	if len(offsets) > 0 {
		out = append(out, fmt.Sprintf("first %d, last %d", offsets[0], offsets[len(offsets)-1]))
	}
	return fmt.Sprint(out)
}

// subscribeAll subscribes c to every channel. Test goroutine only.
func subscribeAll(t *testing.T, c *client.Client, channels []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, ch := range channels {
		if err := c.Subscribe(ctx, ch); err != nil {
			t.Fatalf("subscribe %s: %v", ch, err)
		}
	}
}

// latencyStats summarises latencies for the test log.
func latencyStats(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	pct := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
	return fmt.Sprintf("n=%d p50=%v p90=%v p99=%v max=%v", len(s), pct(0.5), pct(0.9), pct(0.99), s[len(s)-1])
}
