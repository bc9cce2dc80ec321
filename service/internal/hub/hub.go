package hub

import (
	"context"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/wsgateway/wsgateway/service/internal/telemetry"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// Subscriber is one connection's subscription to one channel.
type Subscriber interface {
	// Deliver hands a publication to the subscriber. It is called with the
	// hub's channel lock held: it must not block and must not call the hub.
	Deliver(d *Delivery)
}

// Conn is a local connection the hub can close on behalf of the cluster.
type Conn interface {
	// Close starts closing the connection with reason; it must not block.
	Close(reason protocol.Disconnect)
}

// numShards spreads channels over independent locks so that subscribing on
// one channel never waits for a large fan-out on another.
const numShards = 64

// Hub is this node's channel and user registry. It is safe for concurrent
// use; fan-out on a channel holds that channel's shard read-locked, so
// (un)subscribes on the same shard wait for it, nothing else does.
type Hub struct {
	seed   maphash.Seed
	shards [numShards]shard

	usersMu sync.Mutex
	users   map[string]map[Conn]struct{}

	subs    atomic.Int64
	metrics *metrics
	tracer  trace.Tracer // nil: tracing off
	now     func() time.Time
}

type shard struct {
	mu       sync.RWMutex
	channels map[string]*channel
}

// channel keeps its subscribers in a slice for fast fan-out, with an index
// for O(1) removal (swap with the last).
type channel struct {
	subs  []Subscriber
	index map[Subscriber]int
}

// New returns an empty hub that registers its metrics on reg. tracer, when
// not nil, records a delivery span for each traced publication.
func New(reg prometheus.Registerer, tracer trace.Tracer) *Hub {
	h := &Hub{
		seed:    maphash.MakeSeed(),
		users:   make(map[string]map[Conn]struct{}),
		metrics: newMetrics(reg),
		tracer:  tracer,
		now:     time.Now,
	}
	for i := range h.shards {
		h.shards[i].channels = make(map[string]*channel)
	}
	return h
}

func (h *Hub) shard(ch string) *shard {
	return &h.shards[maphash.String(h.seed, ch)%numShards]
}

// Subscribe adds s to channel ch. Adding a subscriber twice is a no-op.
// The node's broker subscription is the session's business: brokers count
// references per channel themselves.
func (h *Hub) Subscribe(ch string, s Subscriber) {
	sh := h.shard(ch)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	c := sh.channels[ch]
	if c == nil {
		c = &channel{index: make(map[Subscriber]int)}
		sh.channels[ch] = c
	}
	if _, ok := c.index[s]; ok {
		return
	}
	c.index[s] = len(c.subs)
	c.subs = append(c.subs, s)
	h.subs.Add(1)
	h.metrics.subscriptions.Inc()
}

// Unsubscribe removes s from channel ch; a channel left without subscribers
// is forgotten.
func (h *Hub) Unsubscribe(ch string, s Subscriber) {
	sh := h.shard(ch)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	c := sh.channels[ch]
	if c == nil {
		return
	}
	i, ok := c.index[s]
	if !ok {
		return
	}
	end := len(c.subs) - 1
	if i != end {
		c.subs[i] = c.subs[end]
		c.index[c.subs[i]] = i
	}
	c.subs[end] = nil
	c.subs = c.subs[:end]
	delete(c.index, s)
	h.subs.Add(-1)
	h.metrics.subscriptions.Dec()
	if len(c.subs) == 0 {
		delete(sh.channels, ch)
	}
}

// HandlePublication fans p out to the channel's local subscribers. The push
// is encoded once, and only when someone listens. Brokers call it in offset
// order per channel.
func (h *Hub) HandlePublication(p *protocol.Publication) {
	sh := h.shard(p.Channel)
	sh.mu.RLock()
	c := sh.channels[p.Channel]
	if c == nil {
		sh.mu.RUnlock()
		return
	}
	d := NewDelivery(p)
	var span trace.Span
	if h.tracer != nil && p.TraceParent != "" { // untraced publications cost nothing here
		span = h.startDelivery(p, len(c.subs))
	}
	for _, s := range c.subs {
		s.Deliver(d)
	}
	sh.mu.RUnlock()
	if span != nil {
		span.End()
	}
	if p.Time > 0 {
		h.metrics.publishLatency.Observe(float64(h.now().UnixNano()-p.Time) / 1e9)
	}
}

// startDelivery starts this node's span for fanning p out, a child of the
// publish span on whichever node accepted it.
func (h *Hub) startDelivery(p *protocol.Publication, n int) trace.Span {
	ctx := telemetry.FromTraceParent(context.Background(), p.TraceParent)
	_, span := h.tracer.Start(ctx, telemetry.SpanName("deliver", p.Channel),
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(telemetry.System, telemetry.OpDeliver, telemetry.Destination(p.Channel),
			telemetry.Offset(p.Offset), telemetry.Subscribers(n)))
	return span
}

// Subscribers returns how many local connections listen to ch.
func (h *Hub) Subscribers(ch string) int {
	sh := h.shard(ch)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if c := sh.channels[ch]; c != nil {
		return len(c.subs)
	}
	return 0
}

// Subscriptions returns the number of local subscriptions. The number of
// connections is session.Manager's to tell.
func (h *Hub) Subscriptions() int { return int(h.subs.Load()) }
