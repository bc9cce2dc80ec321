package events

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/wsgateway/wsgateway/service/internal/broker"
)

// Store is the cluster-wide lifecycle state; *broker.Redis satisfies it.
type Store interface {
	ApplyLifecycle(ctx context.Context, partitions int, t broker.LifecycleTiming, ops []broker.LifecycleOp) ([]broker.Emitted, error)
	SweepLifecycle(ctx context.Context, partitions int, t broker.LifecycleTiming) ([]broker.Emitted, error)
	InitEvents(ctx context.Context, partitions int) (int, error)
}

// Bounds of the emitter.
const (
	// queueSize bounds the changes waiting for the writer (about 150 bytes
	// each). When it is full, a connect, close or subscribe waits for room:
	// events are durable, so they slow connects down rather than being
	// dropped. Publications and other commands never go through it.
	queueSize = 8192
	// maxBatch is the most changes applied in one round trip.
	maxBatch = 512
	// sweepEvery is how often this node runs the sweep; every node does, so
	// a dead node's entries are reported even when it was the only sweeper.
	sweepEvery = time.Second
	// flushTimeout bounds the last write at shutdown.
	flushTimeout = 3 * time.Second
)

// Options configure an Emitter.
type Options struct {
	Node string
	// Partitions is the count written for the events group if none is
	// stored yet (--inbox-partitions); the stored one is used.
	Partitions int
	// Webhook, when set, is started once the partition count is known.
	Webhook *Webhook
	// JoinLeave configures the join and leave pushes; zero: none.
	JoinLeave JoinLeave
	Timing    broker.LifecycleTiming
	Log       *slog.Logger
	Metrics   *Metrics
}

// Emitter reports this node's connections and subscriptions to the
// cluster-wide lifecycle state. Sessions call its methods (safe for
// concurrent use; a nil *Emitter does nothing); Run's goroutine is the
// single writer: it owns local and pending and applies changes in the order
// they were reported, so one subject's events keep their order.
type Emitter struct {
	store Store
	opts  Options
	q     chan broker.LifecycleOp
	done  chan struct{} // closed when Run returns: reporters stop waiting

	// Run's goroutine only.
	parts   int                             // the events group's partitions; 0 until InitEvents answered
	local   map[entryKey]broker.LifecycleOp // this node's entries, refreshed every broker.RefreshEvery
	pending []broker.LifecycleOp            // removals that failed, retried on refresh
}

var errNotReady = errors.New("the events stream is not set up yet")

type entryKey struct{ kind, client, channel string }

// New returns an Emitter writing to store; Run starts its writer.
func New(store Store, opts Options) *Emitter {
	return &Emitter{store: store, opts: opts, q: make(chan broker.LifecycleOp, queueSize),
		done: make(chan struct{}), local: map[entryKey]broker.LifecycleOp{}}
}

// Opened reports a connection that connected as user.
func (e *Emitter) Opened(user, client string) {
	e.put(broker.LifecycleOp{Kind: broker.KindConn, Client: client, User: user})
	e.put(broker.LifecycleOp{Kind: broker.KindUser, Client: client, User: user})
}

// Closed reports the end of a connection that had connected, with its close
// code. Its subscriptions must have been reported left before.
func (e *Emitter) Closed(user, client string, code int) {
	e.put(broker.LifecycleOp{Remove: true, Kind: broker.KindUser, Client: client, User: user})
	e.put(broker.LifecycleOp{Remove: true, Kind: broker.KindConn, Client: client, User: user, Code: strconv.Itoa(code)})
}

// Subscribed reports a subscription that joined channel.
func (e *Emitter) Subscribed(user, client, channel string) {
	e.put(broker.LifecycleOp{Kind: broker.KindChannel, Client: client, User: user, Channel: channel})
}

// Unsubscribed reports a subscription that left channel.
func (e *Emitter) Unsubscribed(user, client, channel string) {
	e.put(broker.LifecycleOp{Remove: true, Kind: broker.KindChannel, Client: client, User: user, Channel: channel})
}

// put queues o, waiting while the queue is full (backpressure) unless the
// writer has stopped.
func (e *Emitter) put(o broker.LifecycleOp) {
	if e == nil {
		return
	}
	o.Node = e.opts.Node
	select {
	case e.q <- o:
		e.opts.Metrics.queued.Inc()
	case <-e.done:
	}
}

// Run writes the reported changes, refreshes this node's entries and
// sweeps until ctx is done; then it writes what is still queued, within
// flushTimeout, so a drained node's closes are reported with their codes.
func (e *Emitter) Run(ctx context.Context) {
	defer close(e.done)
	var bg sync.WaitGroup
	defer bg.Wait()
	ready := make(chan int, 1)
	bg.Add(1)
	go func() { defer bg.Done(); e.background(ctx, ready) }()
	refresh := time.NewTicker(broker.RefreshEvery())
	defer refresh.Stop()
	initTick := time.NewTicker(time.Second)
	defer initTick.Stop()
	e.init(ctx, ready)
	for {
		select {
		case o := <-e.q:
			e.apply(ctx, e.collect(o))
		case <-refresh.C:
			e.refresh(ctx)
		case <-initTick.C:
			e.init(ctx, ready)
		case <-ctx.Done():
			e.flush()
			return
		}
	}
}

// init reads (or writes) the partition count until Redis answers; until
// then changes are only recorded locally, and the first refresh after it
// writes them.
func (e *Emitter) init(ctx context.Context, ready chan<- int) {
	if e.parts > 0 {
		return
	}
	p, err := e.store.InitEvents(ctx, e.opts.Partitions)
	if err != nil {
		e.opts.Log.Warn("lifecycle events: cannot set up the events stream yet", "err", err)
		return
	}
	e.parts = p
	ready <- p
	e.refresh(ctx)
}

// background runs the sweep and the webhook sender once the partition
// count is known.
func (e *Emitter) background(ctx context.Context, ready <-chan int) {
	var parts int
	select {
	case parts = <-ready:
	case <-ctx.Done():
		return
	}
	var wg sync.WaitGroup
	if len(e.opts.JoinLeave.Namespaces) > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); e.opts.JoinLeave.receivePushes(ctx) }()
	}
	if e.opts.Webhook != nil {
		wg.Add(1)
		go func() { defer wg.Done(); e.opts.Webhook.Run(ctx, parts) }()
	}
	e.sweepLoop(ctx, parts)
	wg.Wait()
}

// collect takes first and whatever else is queued, up to maxBatch.
func (e *Emitter) collect(first broker.LifecycleOp) []broker.LifecycleOp {
	batch := []broker.LifecycleOp{first}
	for len(batch) < maxBatch {
		select {
		case o := <-e.q:
			batch = append(batch, o)
		default:
			e.opts.Metrics.queued.Sub(float64(len(batch)))
			return batch
		}
	}
	e.opts.Metrics.queued.Sub(float64(len(batch)))
	return batch
}

// apply records batch locally and writes it. A failed write is not
// retried as such: the next refresh writes every local entry again (which
// emits what the failed adds would have) and the failed removals.
func (e *Emitter) apply(ctx context.Context, batch []broker.LifecycleOp) {
	for _, o := range batch {
		k := entryKey{o.Kind, o.Client, o.Channel}
		if o.Remove {
			delete(e.local, k)
		} else {
			e.local[k] = o
		}
	}
	if err := e.write(ctx, batch); err != nil {
		e.keepRemovals(batch)
		if !errors.Is(err, errNotReady) {
			e.opts.Log.Warn("lifecycle events: write failed; the next refresh retries", "err", err, "changes", len(batch))
		}
	}
}

// maxPending bounds the failed removals kept for a retry (about 150 bytes
// each) while Redis is unreachable. Beyond it the oldest are dropped: their
// entries then expire and are reported closed with node_lost, which is
// late and says less, but nothing stays online for ever.
const maxPending = 100000

// keepRemovals keeps ops' removals for the next refresh.
func (e *Emitter) keepRemovals(ops []broker.LifecycleOp) {
	for _, o := range ops {
		if o.Remove {
			e.pending = append(e.pending, o)
		}
	}
	if over := len(e.pending) - maxPending; over > 0 {
		e.opts.Log.Warn("lifecycle events: dropping failed removals; their entries will expire", "dropped", over)
		e.pending = append(e.pending[:0], e.pending[over:]...)
	}
}

func (e *Emitter) write(ctx context.Context, ops []broker.LifecycleOp) error {
	if e.parts == 0 {
		return errNotReady
	}
	evs, err := e.store.ApplyLifecycle(ctx, e.parts, e.opts.Timing, ops)
	e.opts.Metrics.count(evs)
	e.publishPushes(ctx, evs)
	if err != nil {
		e.opts.Metrics.errors.Inc()
	}
	return err
}

// refresh moves the expiry of every local entry and retries the failed
// removals, in chunks of maxBatch.
func (e *Emitter) refresh(ctx context.Context) {
	if e.parts > 0 {
		// The partition count and the groups, again: Redis may have lost them.
		if _, err := e.store.InitEvents(ctx, e.opts.Partitions); err != nil {
			e.opts.Log.Debug("lifecycle events: set-up check failed", "err", err)
		}
	}
	ops := e.pending
	e.pending = nil
	for _, o := range e.local {
		ops = append(ops, o)
	}
	for len(ops) > 0 {
		n := min(len(ops), maxBatch)
		if err := e.write(ctx, ops[:n]); err != nil {
			e.keepRemovals(ops)
			if !errors.Is(err, errNotReady) {
				e.opts.Log.Warn("lifecycle events: refresh failed", "err", err)
			}
			return
		}
		ops = ops[n:]
	}
}

// flush writes what is queued at shutdown.
func (e *Emitter) flush() {
	ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
	defer cancel()
	for {
		select {
		case o := <-e.q:
			e.apply(ctx, e.collect(o))
		default:
			return
		}
	}
}

func (e *Emitter) sweepLoop(ctx context.Context, parts int) {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			evs, err := e.store.SweepLifecycle(ctx, parts, e.opts.Timing)
			e.opts.Metrics.count(evs)
			e.publishPushes(ctx, evs)
			if err != nil && ctx.Err() == nil {
				e.opts.Metrics.errors.Inc()
				e.opts.Log.Debug("lifecycle events: sweep failed", "err", err)
			}
		}
	}
}
