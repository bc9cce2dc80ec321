package broker

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// The in-process broker's state is bounded: channels that never had a
// publication leave nothing behind, channels that had some go away after
// MetaTTL, at most MaxChannels of those are kept, and each remembers a
// bounded number of idempotency keys.

// memoryChannels counts the channels m holds state for, straight from its
// shards.
func memoryChannels(m *Memory) int {
	n := 0
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		n += len(sh.streams)
		sh.mu.Unlock()
	}
	return n
}

// withHistory counts the channels of m that hold publications.
func withHistory(m *Memory) int {
	n := 0
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		for _, s := range sh.streams {
			s.mu.Lock()
			if len(s.buf) > 0 {
				n++
			}
			s.mu.Unlock()
		}
		sh.mu.Unlock()
	}
	return n
}

// metricValue reads a counter's or a gauge's value.
func metricValue(t *testing.T, c prometheus.Metric) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}

func TestMemoryUnpublishedChannelsLeaveNoState(t *testing.T) {
	m, _, c := newTestMemory(t)
	ctx := t.Context()
	const n = 1000
	for i := range n {
		ch := fmt.Sprintf("quiet:%d", i)
		if err := m.Subscribe(ctx, ch); err != nil {
			t.Fatal(err)
		}
		history(t, m, ch, protocol.PositionOnly)
		if err := m.Unsubscribe(ctx, ch); err != nil {
			t.Fatal(err)
		}
		history(t, m, fmt.Sprintf("read:%d", i), protocol.HistoryQuery{}) // read, never subscribed
	}
	if got := memoryChannels(m); got != 2*n {
		t.Fatalf("%d channels right after, want %d (each keeps its epoch for a while)", got, 2*n)
	}
	// Long past the grace for channels without publications, well before
	// MetaTTL.
	c.Advance(testMetaTTL / 2)
	m.sweep(c.Now())
	if got := memoryChannels(m); got != 0 {
		t.Errorf("%d channels that never had a publication still hold state after every subscriber left", got)
	}
}

// TestMemoryEmptyChannelEpoch: a channel without publications keeps its epoch
// while subscribed, however long, and for DefaultEmptyTTL after, so that
// subscribers (live, or reconnecting soon) are not sent to resync by its
// first publication; after that it starts over.
func TestMemoryEmptyChannelEpoch(t *testing.T) {
	tests := []struct {
		name        string
		unsubscribe bool
		wait        time.Duration
		wantSame    bool
	}{
		{"subscribed, long after", false, testMetaTTL * 3, true},
		{"unsubscribed, within the grace", true, DefaultEmptyTTL - time.Second, true},
		{"unsubscribed, after the grace", true, DefaultEmptyTTL, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, r, c := newTestMemory(t)
			if err := m.Subscribe(t.Context(), "ch"); err != nil {
				t.Fatal(err)
			}
			first := history(t, m, "ch", protocol.PositionOnly)
			if tt.unsubscribe {
				if err := m.Unsubscribe(t.Context(), "ch"); err != nil {
					t.Fatal(err)
				}
			}
			c.Advance(tt.wait)
			m.sweep(c.Now())
			pos := publish(t, m, "ch", protocol.PublishOptions{})
			if same := pos == (protocol.Position{Offset: 1, Epoch: first.Epoch}); same != tt.wantSame {
				t.Errorf("first publish at %+v after the read at %+v: same epoch %v, want %v", pos, first.Position, same, tt.wantSame)
			}
			if got := r.count("ch"); got != 1 {
				t.Errorf("%d delivered, want 1", got)
			}
		})
	}
}

func TestMemoryPublishedChannelsExpire(t *testing.T) {
	m, _, c := newTestMemory(t)
	const n = 500
	epochs := make([]string, n)
	for i := range n {
		epochs[i] = publish(t, m, fmt.Sprintf("ch:%d", i), protocol.PublishOptions{IdempotencyKey: "k"}).Epoch
	}
	c.Advance(testHistoryTTL)
	m.sweep(c.Now())
	if got, want := [2]int{memoryChannels(m), withHistory(m)}, [2]int{n, 0}; got != want {
		t.Fatalf("after HistoryTTL: %d channels, %d with history; want %d, %d", got[0], got[1], want[0], want[1])
	}
	c.Advance(testMetaTTL - testHistoryTTL)
	m.sweep(c.Now())
	if got := memoryChannels(m); got != 0 {
		t.Fatalf("after MetaTTL: %d channels hold state, want 0", got)
	}
	if pos := publish(t, m, "ch:0", protocol.PublishOptions{}); pos.Offset != 1 || pos.Epoch == epochs[0] {
		t.Errorf("publish after MetaTTL at %+v, want offset 1 in a new epoch (old %q)", pos, epochs[0])
	}
}

// newCappedMemory returns a Memory keeping at most max channels with
// publications, on clock c (nil: the real one), and its metrics.
func newCappedMemory(t *testing.T, max int, c *clock) (*Memory, *recorder, *Metrics) {
	r := newRecorder(t)
	metrics := NewMetrics(prometheus.NewRegistry())
	opts := MemoryOptions{HistorySize: 10, HistoryTTL: time.Hour, MaxChannels: max, Metrics: metrics}
	if c != nil {
		opts.Now = c.Now
	}
	return NewMemory(opts, r), r, metrics
}

func TestMemoryHistoryCapEvictsOldestIdle(t *testing.T) {
	c := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	m, _, metrics := newCappedMemory(t, 3, c)
	pub := func(ch string) protocol.Position {
		c.Advance(idleStep) // the idle order is kept to idleStep
		return publish(t, m, ch, protocol.PublishOptions{})
	}
	a := pub("a")
	b := pub("b")
	pub("c")
	pub("a") // a is no longer the idlest
	pub("d") // one too many: b goes

	if got := metricValue(t, metrics.HistoryEvictions); got != 1 {
		t.Errorf("evictions %v, want 1", got)
	}
	if got := history(t, m, "a", protocol.HistoryQuery{}); got.Offset != 2 || got.Epoch != a.Epoch || len(got.Publications) != 2 {
		t.Errorf("a: %+v with %d publications, want offset 2 in %q with 2", got.Position, len(got.Publications), a.Epoch)
	}
	got := history(t, m, "b", protocol.HistoryQuery{})
	if got.Offset != 0 || got.Epoch == b.Epoch || len(got.Publications) != 0 {
		t.Errorf("b after eviction: %+v with %d publications, want offset 0 in a new epoch (old %q)", got.Position, len(got.Publications), b.Epoch)
	}
	// A client that saw b's offset 1 must be told to resync, not handed a
	// different publication under the same (epoch, offset).
	if pos := pub("b"); pos.Epoch == b.Epoch {
		t.Errorf("b published again at %+v, in its evicted epoch", pos)
	}
	if got := metricValue(t, metrics.HistoryEvictions); got != 2 {
		t.Errorf("evictions %v after b came back, want 2 (c, now the idlest)", got)
	}
	if got := history(t, m, "c", protocol.PositionOnly).Offset; got != 0 {
		t.Errorf("c at offset %d, want 0: it was the idlest", got)
	}
}

func TestMemoryHistoryCapBoundsChannels(t *testing.T) {
	const max, workers, each = 10, 8, 300
	m, r, metrics := newCappedMemory(t, max, nil)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				ch := fmt.Sprintf("w%d:%d", w, i)
				if _, err := m.Publish(context.Background(), ch, []byte(`1`), protocol.PublishOptions{}); err != nil {
					t.Error(err)
					return
				}
				if i%10 == 0 {
					m.sweep(time.Now())
				}
			}
		})
	}
	wg.Wait()
	publish(t, m, "last", protocol.PublishOptions{}) // alone: nothing is busy now
	if got := m.idle.len(); got != max {
		t.Errorf("%d channels with publications, want the cap %d", got, max)
	}
	m.sweep(time.Now()) // takes out what evictions left in the maps
	if got := memoryChannels(m); got != max {
		t.Errorf("%d channels hold state, want %d", got, max)
	}
	if got, want := metricValue(t, metrics.Channels), float64(max); got != want {
		t.Errorf("channel gauge %v, want %v", got, want)
	}
	if got, want := metricValue(t, metrics.HistoryEvictions), float64(workers*each+1-max); got != want {
		t.Errorf("evictions %v, want %v", got, want)
	}
	if got := r.count("last"); got != 1 {
		t.Errorf("%d delivered on last, want 1", got)
	}
}

func TestMemoryIdempotencyKeysBounded(t *testing.T) {
	m, r, _ := newTestMemory(t)
	keyCap := idempotencyCap(10)
	n := keyCap + 200
	for i := range n {
		publish(t, m, "ch", protocol.PublishOptions{IdempotencyKey: fmt.Sprintf("k%d", i)})
	}
	s := m.stream(t, "ch")
	s.mu.Lock()
	kept, order := len(s.keys.byKey), len(s.keys.order)
	s.mu.Unlock()
	if kept != keyCap || order != keyCap {
		t.Errorf("%d keys remembered (%d in order), want the cap %d", kept, order, keyCap)
	}
	last := fmt.Sprintf("k%d", n-1)
	if got := publish(t, m, "ch", protocol.PublishOptions{IdempotencyKey: last}).Offset; got != uint64(n) {
		t.Errorf("repeat of the latest key at offset %d, want %d (deduplicated)", got, n)
	}
	// Documented: the oldest keys are forgotten early, and publish again.
	if got := publish(t, m, "ch", protocol.PublishOptions{IdempotencyKey: "k0"}).Offset; got != uint64(n+1) {
		t.Errorf("repeat of the oldest key at offset %d, want %d (forgotten beyond the cap)", got, n+1)
	}
	if got := r.count("ch"); got != n+1 {
		t.Errorf("%d delivered, want %d", got, n+1)
	}
}
