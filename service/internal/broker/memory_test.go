package broker

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wsgateway/wsgateway/service/protocol"
)

func TestMemory(t *testing.T) {
	runBrokerSuite(t, func(t *testing.T, h Handler) brokerUnderTest {
		return NewMemory(MemoryOptions{
			HistorySize: suiteHistorySize,
			HistoryTTL:  time.Minute,
			Node:        func() protocol.NodeInfo { return suiteNode },
		}, h)
	})
}

// clock is a settable time source for MemoryOptions.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

const (
	testHistoryTTL = 10 * time.Minute
	testMetaTTL    = time.Hour
)

// newTestMemory returns a Memory on a fake clock, with a 10-publication
// history, testHistoryTTL and testMetaTTL.
func newTestMemory(t *testing.T) (*Memory, *recorder, *clock) {
	c := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	r := newRecorder(t)
	m := NewMemory(MemoryOptions{
		HistorySize: 10,
		HistoryTTL:  testHistoryTTL,
		MetaTTL:     testMetaTTL,
		Now:         c.Now,
	}, r)
	return m, r, c
}

func TestMemoryHistoryTTL(t *testing.T) {
	tests := []struct {
		name     string
		wait     time.Duration
		wantPubs int
	}{
		{"just before", testHistoryTTL - time.Second, 3},
		{"at expiry", testHistoryTTL, 0},
		{"long after", testMetaTTL - time.Second, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _, c := newTestMemory(t)
			pos := publishN(t, m, "ch", 3)
			c.Advance(tt.wait)
			got := history(t, m, "ch", protocol.HistoryQuery{})
			if got.Position != pos || len(got.Publications) != tt.wantPubs {
				t.Fatalf("history at %+v with %d publications, want %+v with %d",
					got.Position, len(got.Publications), pos, tt.wantPubs)
			}
			next := publish(t, m, "ch", protocol.PublishOptions{})
			if want := (protocol.Position{Offset: 4, Epoch: pos.Epoch}); next != want {
				t.Errorf("next publish at %+v, want %+v", next, want)
			}
		})
	}
}

// TestMemoryMetaTTL: the position lives MetaTTL after the last publication;
// reads do not extend it (--channel-meta-ttl counts from the last
// publication), so a channel that is only read still goes away.
func TestMemoryMetaTTL(t *testing.T) {
	m, _, c := newTestMemory(t)
	first := publishN(t, m, "ch", 3)

	c.Advance(testMetaTTL - time.Second)
	if got := history(t, m, "ch", protocol.HistoryQuery{}).Position; got != first {
		t.Fatalf("position before MetaTTL: %+v, want %+v", got, first)
	}
	c.Advance(time.Second)
	got := history(t, m, "ch", protocol.HistoryQuery{})
	if got.Offset != 0 || got.Epoch == first.Epoch || got.Epoch == "" || len(got.Publications) != 0 {
		t.Fatalf("after MetaTTL, though read meanwhile: %+v, want offset 0 and a new epoch", got)
	}
	if pos := publish(t, m, "ch", protocol.PublishOptions{}); pos != (protocol.Position{Offset: 1, Epoch: got.Epoch}) {
		t.Errorf("publish after MetaTTL at %+v, want offset 1 in epoch %q", pos, got.Epoch)
	}
}

func TestMemoryIdempotencyExpiry(t *testing.T) {
	tests := []struct {
		name       string
		wait       time.Duration
		wantOffset uint64
	}{
		{"within the window", protocol.IdempotencyWindow - time.Second, 1},
		{"at the window", protocol.IdempotencyWindow, 2},
		{"after the window", protocol.IdempotencyWindow + time.Minute, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, r, c := newTestMemory(t)
			opts := protocol.PublishOptions{IdempotencyKey: "k"}
			publish(t, m, "ch", opts)
			c.Advance(tt.wait)
			if got := publish(t, m, "ch", opts).Offset; got != tt.wantOffset {
				t.Errorf("repeat at offset %d, want %d", got, tt.wantOffset)
			}
			if got := r.count("ch"); got != int(tt.wantOffset) {
				t.Errorf("%d publications delivered, want %d", got, tt.wantOffset)
			}
		})
	}
}

// TestMemoryIdempotencyMetaReset: a channel that starts over forgets its
// keys, even with a MetaTTL shorter than the idempotency window, so a repeat
// never answers with a position from the previous epoch.
func TestMemoryIdempotencyMetaReset(t *testing.T) {
	c := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	m := NewMemory(MemoryOptions{HistorySize: 10, MetaTTL: time.Minute, Now: c.Now}, newRecorder(t))
	opts := protocol.PublishOptions{IdempotencyKey: "k"}
	first := publish(t, m, "ch", opts)
	c.Advance(2 * time.Minute)
	again := publish(t, m, "ch", opts)
	if again.Offset != 1 || again.Epoch == first.Epoch {
		t.Errorf("repeat after the channel started over at %+v, want offset 1 in a new epoch (old %q)", again, first.Epoch)
	}
}

func TestMemorySweep(t *testing.T) {
	m, _, c := newTestMemory(t)
	publishN(t, m, "old", 3)
	publish(t, m, "keyed", protocol.PublishOptions{IdempotencyKey: "k"})
	c.Advance(testHistoryTTL)
	fresh := publishN(t, m, "fresh", 2)
	m.sweep(c.Now())

	if s := m.stream(t, "old"); s == nil || len(s.buf) != 0 {
		t.Errorf("old: history kept past HistoryTTL: %+v", s)
	}
	if s := m.stream(t, "keyed"); s == nil || s.keys.byKey != nil {
		t.Errorf("keyed: idempotency keys kept past the window: %+v", s)
	}
	c.Advance(testMetaTTL - testHistoryTTL)
	m.sweep(c.Now())
	if s := m.stream(t, "old"); s != nil {
		t.Errorf("old: meta kept past MetaTTL")
	}
	if s := m.stream(t, "fresh"); s == nil || s.pos != fresh || len(s.buf) != 0 {
		t.Errorf("fresh: want position %+v kept and history dropped, have %+v", fresh, s)
	}
}

// stream returns channel's stream without creating it, nil when absent.
func (m *Memory) stream(t *testing.T, channel string) *stream {
	t.Helper()
	sh := m.shard(channel)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.streams[channel]
}

// TestMemoryRemovedStream covers a publisher that finds a stream, then
// locks it only after the sweeper removed it: it must use a new stream.
func TestMemoryRemovedStream(t *testing.T) {
	m, _, _ := newTestMemory(t)
	old := publishN(t, m, "ch", 2)
	s := m.stream(t, "ch")
	s.mu.Lock()
	done := make(chan protocol.Position)
	go func() { done <- publish(t, m, "ch", protocol.PublishOptions{}) }()
	sh := m.shard("ch")
	sh.mu.Lock()
	s.removed = true
	delete(sh.streams, "ch")
	sh.mu.Unlock()
	s.mu.Unlock()

	pos := <-done
	if pos.Offset != 1 || pos.Epoch == old.Epoch {
		t.Errorf("publish after removal at %+v, want offset 1 in a new epoch (old %q)", pos, old.Epoch)
	}
}

func TestMemorySweepConcurrent(t *testing.T) {
	m, r, c := newTestMemory(t)
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() {
		for ctx.Err() == nil {
			c.Advance(time.Second)
			m.sweep(c.Now())
		}
	})
	const n = 2000
	for i := range n {
		publishData(t, m, "ch", strconv.Itoa(i), protocol.PublishOptions{})
	}
	cancel()
	wg.Wait()
	if got := r.count("ch"); got != n {
		t.Errorf("%d delivered, want %d", got, n)
	}
}

func TestMemoryCanceledContext(t *testing.T) {
	m, r, _ := newTestMemory(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := m.Publish(ctx, "ch", []byte(`1`), protocol.PublishOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("publish: %v, want context.Canceled", err)
	}
	if _, err := m.History(ctx, "ch", protocol.HistoryQuery{}); !errors.Is(err, context.Canceled) {
		t.Errorf("history: %v, want context.Canceled", err)
	}
	if got := r.count("ch"); got != 0 {
		t.Errorf("%d delivered after a canceled publish", got)
	}
}

func TestMemoryRunStops(t *testing.T) {
	m := NewMemory(MemoryOptions{SweepInterval: time.Millisecond}, newRecorder(t))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	publish(t, m, "ch", protocol.PublishOptions{})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v, want nil", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Run did not return after cancel")
	}
}

func TestMemoryNodesWithoutNode(t *testing.T) {
	m := NewMemory(MemoryOptions{}, newRecorder(t))
	got, err := m.Nodes(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]protocol.NodeInfo{}, got); diff != "" {
		t.Errorf("nodes (-want +got):\n%s", diff)
	}
}
