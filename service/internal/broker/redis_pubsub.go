package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// subscribeWait bounds waiting for Redis to confirm a subscription.
const subscribeWait = 2 * time.Second

// subscriptions is the node's set of Redis pub/sub subscriptions: one per
// channel with local subscribers, reference-counted across sessions. Its
// pub/sub connections (one in total, or one per master in Cluster mode)
// each run a receiver goroutine; mu guards the maps.
type subscriptions struct {
	pubsubDeps
	ctx    context.Context // ends the connections' goroutines
	cancel context.CancelFunc

	mu    sync.Mutex
	chans map[string]*chanSub
	conns map[string]*psConn // by master address; "" outside Cluster mode

	control *psConn // carries controlChannel, and every channel outside Cluster mode

	// movedSlots are the slots that Redis answered MOVED for, with the
	// master it named; reroute moves their channels there. Guarded by mu.
	movedSlots map[int]string
	// misplaced are sharded connections that Redis's MOVED showed to be
	// attached to another master than the one they stand for; reroute
	// replaces them. Guarded by mu.
	misplaced map[*psConn]bool

	recheck chan struct{} // asks checkPositions for an early pass
	moved   chan struct{} // asks checkPositions to reroute now
}

// pubsubDeps are the registry's collaborators, handed over by NewRedis
// rather than reached through the broker, so that this list is all the
// registry uses of it.
type pubsubDeps struct {
	rdb     redis.UniversalClient
	cluster *redis.ClusterClient // the same client in Cluster mode (sharded pub/sub); nil otherwise
	guard   *guard
	// history reads a channel's position at subscribe and fills gaps
	// (Redis.History).
	history func(ctx context.Context, ch string, q protocol.HistoryQuery) (protocol.History, error)
	metaTTL time.Duration // for renewing the meta of channels without publications
	h       Handler
	log     *slog.Logger
	// pubsubErrors counts lost pub/sub connections (Metrics.Errors, op pubsub).
	pubsubErrors prometheus.Counter
}

// chanSub is one channel's node-level subscription. mu orders deliveries:
// live ones from the receiver and gap fills from the position checker.
type chanSub struct {
	// refs, confirmed and conn are guarded by subscriptions.mu.
	refs      int
	confirmed bool
	ready     chan struct{} // closed at Redis's first confirmation
	conn      *psConn       // set by route, moved by reroute

	mu    sync.Mutex
	last  uint64 // last offset handed to the hub (or the position at start)
	epoch string // its epoch
}

// newSubscriptions creates the control connection at once, without I/O (a
// PubSub with no channels connects on first use): sessions may subscribe as
// soon as the server listens, before run is scheduled, and outside Cluster
// mode their channels must find that connection in conns. What they queue on
// it is sent when run starts its flush loop.
func newSubscriptions(d pubsubDeps) *subscriptions {
	ctx, cancel := context.WithCancel(context.Background())
	s := &subscriptions{pubsubDeps: d, ctx: ctx, cancel: cancel, chans: map[string]*chanSub{}, conns: map[string]*psConn{},
		control: newPSConn(ctx, d.rdb.Subscribe(ctx), false, ""), movedSlots: map[int]string{}, misplaced: map[*psConn]bool{},
		recheck: make(chan struct{}, 1), moved: make(chan struct{}, 1)}
	if d.cluster == nil {
		s.conns[""] = s.control // one connection carries everything
	}
	s.control.enqueue(subOp{name: controlChannel})
	return s
}

// run runs the control connection (and through it, outside Cluster mode,
// every channel) until ctx ends, then closes every pub/sub connection.
func (s *subscriptions) run(ctx context.Context) {
	go s.receive(s.control)
	go s.control.flushLoop(s.log)
	<-ctx.Done()
	s.cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.control.close()
	for _, sh := range s.conns {
		sh.close() // outside Cluster mode that is control again: a no-op
	}
}

// subscribe makes the node receive ch; it returns once Redis confirmed.
func (s *subscriptions) subscribe(ctx context.Context, ch string) error {
	s.mu.Lock()
	cs := s.chans[ch]
	fresh := cs == nil
	if fresh {
		cs = &chanSub{ready: make(chan struct{})}
		s.chans[ch] = cs
	}
	cs.refs++
	s.mu.Unlock()
	if fresh {
		if err := s.start(ctx, ch, cs); err != nil {
			s.unsubscribe(ch)
			return err
		}
	}
	t := time.NewTimer(subscribeWait)
	defer t.Stop()
	select {
	case <-cs.ready:
		return nil
	case <-t.C:
		s.unsubscribe(ch)
		return fmt.Errorf("subscribe %s: not confirmed in %v: %w", ch, subscribeWait, protocol.ErrUnavailable)
	case <-ctx.Done():
		s.unsubscribe(ch)
		return fmt.Errorf("subscribe %s: %w", ch, ctx.Err())
	}
}

// start reads the channel's position, then subscribes. In that order,
// anything published in between arrives as a gap after the position and is
// filled from the stream; the other order could set the position past a
// publication still on its way through pub/sub, and drop it.
func (s *subscriptions) start(ctx context.Context, ch string, cs *chanSub) error {
	h, err := s.history(ctx, ch, protocol.PositionOnly)
	if err != nil {
		return err
	}
	cs.mu.Lock()
	cs.last, cs.epoch = h.Offset, h.Epoch
	cs.mu.Unlock()
	return s.route(ctx, ch, cs)
}

// unsubscribe drops one reference to ch, and the Redis subscription with
// the last one.
func (s *subscriptions) unsubscribe(ch string) {
	s.mu.Lock()
	cs := s.chans[ch]
	if cs == nil {
		s.mu.Unlock()
		return
	}
	if cs.refs--; cs.refs > 0 {
		s.mu.Unlock()
		return
	}
	delete(s.chans, ch)
	conn := cs.conn // reroute may move it: read it under mu
	s.mu.Unlock()
	if conn != nil {
		conn.enqueue(subOp{name: pubsubName(ch), unsub: true})
	}
}

// route picks the channel's connection and asks it to subscribe. In Cluster mode
// that is the connection to the master owning the channel's slot; a new
// master gets a new connection, bound to its slot by its first channel.
func (s *subscriptions) route(ctx context.Context, ch string, cs *chanSub) error {
	key := ""
	if s.cluster != nil {
		var err error
		if key, err = s.masterOf(ctx, ch); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cs.conn = s.subscribeAt(key, ch)
	return nil
}

// subscribeAt subscribes ch on the connection to the master at key and
// returns that connection. A new master gets a new connection, bound to the
// slot of its first channel, so it is created with it, which sends the
// SSUBSCRIBE while mu is held. That happens once per master, so it is not
// worth a more intricate handshake. Callers hold mu.
func (s *subscriptions) subscribeAt(key, ch string) *psConn {
	if sh := s.conns[key]; sh != nil {
		sh.enqueue(subOp{name: pubsubName(ch)})
		return sh
	}
	sh := newPSConn(s.ctx, s.cluster.SSubscribe(s.ctx, pubsubName(ch)), true, key)
	s.conns[key] = sh
	go s.receive(sh)
	go sh.flushLoop(s.log)
	return sh
}

func (s *subscriptions) masterOf(ctx context.Context, ch string) (string, error) {
	var addr string
	err := s.guard.do(ctx, "subscribe", func(ctx context.Context) error {
		c, err := s.cluster.MasterForKey(ctx, pubsubName(ch))
		if err == nil {
			addr = c.Options().Addr
		}
		return err
	})
	return addr, err
}

// receive reads one pub/sub connection until the broker stops. go-redis
// reconnects and resubscribes by itself after an error; the confirmations
// that follow trigger a position check, which fills what was missed.
func (s *subscriptions) receive(sh *psConn) {
	backoff := 50 * time.Millisecond
	for sh.ctx.Err() == nil {
		msg, err := sh.ps.ReceiveTimeout(sh.ctx, 5*time.Second)
		if err != nil {
			if sh.ctx.Err() != nil {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				_ = sh.ps.Ping(sh.ctx) // quiet: check the connection is alive
				continue
			}
			if sh.sharded && isCrossSlot(err) {
				s.resubscribeEach(sh)
				continue
			}
			if slot, addr, ok := movedTo(err); ok && sh.sharded {
				s.slotMoved(sh, slot, addr)
				continue
			}
			s.pubsubErrors.Inc()
			s.log.Warn("redis pub/sub connection lost", "err", err)
			sleepCtx(sh.ctx, backoff)
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		switch m := msg.(type) {
		case *redis.Subscription:
			s.confirmed(sh, m)
		case *redis.Message:
			s.message(m)
		}
	}
}

// isCrossSlot reports Cluster's refusal of a command whose channels span
// slots.
func isCrossSlot(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && strings.HasPrefix(re.Error(), "CROSSSLOT")
}

// resubscribeEach subscribes sh's channels again, one SSUBSCRIBE each. After
// a reconnect, go-redis resubscribes a sharded connection with one
// SSUBSCRIBE naming all its channels, which Cluster refuses (CROSSSLOT) as
// soon as they span slots, leaving none subscribed. The confirmations then
// trigger the position checks that fill what was missed.
func (s *subscriptions) resubscribeEach(sh *psConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch, cs := range s.chans {
		if cs.conn == sh {
			sh.enqueue(subOp{name: pubsubName(ch)})
		}
	}
}

// confirmed handles Redis's subscription confirmations: the first one makes
// subscribe return; a later one means the connection came back, or the
// channel moved to another master, and what was published meanwhile is
// filled from history. A sharded unsubscribe may be Redis dropping the
// channel because its slot moved.
func (s *subscriptions) confirmed(sh *psConn, m *redis.Subscription) {
	ch, ok := channelOf(m.Channel)
	if !ok {
		return
	}
	if m.Kind == "sunsubscribe" {
		s.dropped(sh, ch)
		return
	}
	if m.Kind != "subscribe" && m.Kind != "ssubscribe" {
		return
	}
	s.mu.Lock()
	cs := s.chans[ch]
	first := cs != nil && !cs.confirmed
	if first {
		cs.confirmed = true
		close(cs.ready)
	}
	s.mu.Unlock()
	if cs != nil && !first {
		select { // a reconnect confirms every channel at once: check them in one pass
		case s.recheck <- struct{}{}:
		default:
		}
	}
}

func (s *subscriptions) message(m *redis.Message) {
	if m.Channel == controlChannel {
		handleControl(s.h, m.Payload)
		return
	}
	ch, ok := channelOf(m.Channel)
	if !ok {
		return
	}
	s.mu.Lock()
	cs := s.chans[ch]
	s.mu.Unlock()
	if cs == nil {
		return // unsubscribed meanwhile
	}
	p, err := decodePayload(ch, m.Payload)
	if err != nil {
		s.log.Error("undecodable publication from redis", "channel", ch, "err", err)
		return
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if p.Epoch == cs.epoch && p.Offset > cs.last+1 {
		s.fill(s.ctx, ch, cs, p.Offset-1)
	}
	s.deliver(cs, p)
}

// deliver hands p to the hub unless the node already did. Callers hold cs.mu.
func (s *subscriptions) deliver(cs *chanSub, p *protocol.Publication) {
	if p.Epoch == cs.epoch && p.Offset <= cs.last {
		return
	}
	s.h.HandlePublication(p)
	cs.last, cs.epoch = p.Offset, p.Epoch
}

// fill hands the hub the publications after cs.last up to upTo from
// history. What history no longer has stays missing: what it still has is
// handed over past the hole all the same, so the sessions see the gap and
// tell their clients (unsub) even when no live publication follows on a
// quiet channel; nothing is lost silently. Callers hold cs.mu.
func (s *subscriptions) fill(ctx context.Context, ch string, cs *chanSub, upTo uint64) {
	h, err := s.history(ctx, ch, protocol.HistoryQuery{HasSince: true, Since: cs.last, Limit: int(upTo - cs.last)})
	if err != nil || h.Epoch != cs.epoch {
		return
	}
	for _, p := range h.Publications {
		s.deliver(cs, p)
	}
}

// checkPositions compares the node's position on every subscribed channel
// with Redis's, every checkEvery and after a pub/sub reconnect, and fills
// what the node missed: a publication whose pub/sub message never arrived
// is delivered here at the latest. In Cluster mode it also moves the
// channels of migrated slots to their new master (reroute).
func (s *subscriptions) checkPositions(ctx context.Context) {
	t := time.NewTicker(checkEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.reroute(ctx, true) // what an earlier pass could not move yet
		case <-s.recheck:
		case <-s.moved:
			s.reroute(ctx, false)
			continue // the new confirmations ask for the position check
		}
		names, subs := s.confirmedChannels()
		for i := 0; i < len(names); i += checkBatch {
			j := min(len(names), i+checkBatch)
			s.checkBatch(ctx, names[i:j], subs[i:j])
		}
	}
}

// Position checks: how often, and how many channels per pipelined round trip.
// checkEvery is a variable only so that tests can shorten it.
var checkEvery = 5 * time.Second

const checkBatch = 500

func (s *subscriptions) confirmedChannels() ([]string, []*chanSub) {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.chans))
	subs := make([]*chanSub, 0, len(s.chans))
	for ch, cs := range s.chans {
		if cs.confirmed {
			names, subs = append(names, ch), append(subs, cs)
		}
	}
	return names, subs
}

// checkBatch reads the positions of names in one pipeline and fills the
// channels that are behind.
func (s *subscriptions) checkBatch(ctx context.Context, names []string, subs []*chanSub) {
	cmds := make([]*redis.SliceCmd, len(names))
	err := s.guard.do(ctx, "history", func(ctx context.Context) error {
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, ch := range names {
				cmds[i] = p.HMGet(ctx, metaKey(ch), "o", "e", "c")
				s.renewIfEmpty(ctx, p, ch, subs[i])
			}
			return nil
		})
		return err
	})
	if err != nil {
		return
	}
	for i, cs := range subs {
		vals := cmds[i].Val()
		if len(vals) != 3 {
			continue
		}
		o, _ := vals[0].(string)
		e, _ := vals[1].(string)
		if c, ok := vals[2].(string); ok {
			o = c // a durable channel: what is beyond is not visible yet
		}
		off, perr := strconv.ParseUint(o, 10, 64)
		if perr != nil {
			continue // no meta: nothing was published since Redis lost it
		}
		cs.mu.Lock()
		switch {
		case e == cs.epoch && off > cs.last:
			s.fill(ctx, names[i], cs, off)
		case e != cs.epoch && off > 0:
			// The channel started over (Redis lost it) and its new epoch's
			// publications never came through pub/sub: hand them over now,
			// so the sessions see the epoch change and tell their clients,
			// instead of sitting silently in the old epoch until a next
			// publication. A failed fill is retried by the next check.
			cs.last, cs.epoch = 0, e
			s.fill(ctx, names[i], cs, off)
		}
		cs.mu.Unlock()
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
