package broker

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// DefaultSweepInterval is how often Run sweeps when
// MemoryOptions.SweepInterval is zero (more often when emptyTTL is shorter).
// Expiry is also checked on every access, so the interval bounds only how
// long expired state keeps its memory.
const DefaultSweepInterval = 30 * time.Second

// shardCount splits channels over independent maps so that lookups on
// different channels rarely contend. A power of two keeps the modulo cheap.
const shardCount = 64

// MemoryOptions configure a Memory broker.
type MemoryOptions struct {
	// HistorySize is the number of publications kept per channel (a ring
	// buffer: the oldest is dropped). Zero keeps none, so no recovery succeeds
	// after a missed publication.
	HistorySize int
	// HistoryTTL removes a channel's history this long after its last
	// publication; the offset and epoch stay (see MetaTTL). Zero: history is
	// bounded by HistorySize only.
	HistoryTTL time.Duration
	// MetaTTL keeps a channel's offset and epoch this long after its last
	// publication (DefaultMetaTTL when zero); after that the channel starts
	// over at offset 1 with a new epoch, so clients cannot mistake the new
	// stream for the old one. It should not be shorter than HistoryTTL.
	MetaTTL time.Duration
	// MaxChannels caps the channels that have had a publication and not
	// expired yet (--history-max-channels). Beyond it the channel published
	// longest ago is evicted whole: position, history and idempotency keys,
	// so its next publication starts a new epoch. Zero: no cap.
	MaxChannels int
	// Metrics receives the evictions and the channel count. Nil: a private
	// set, registered nowhere.
	Metrics *Metrics
	// SweepInterval is how often Run drops expired state
	// (DefaultSweepInterval when zero).
	SweepInterval time.Duration
	// Node reports this node's info, for Nodes. Nil: Nodes lists none.
	Node func() protocol.NodeInfo
	// Now is the clock for every expiry decision. Nil: time.Now. Tests set it
	// to drive expiry without sleeping.
	Now func() time.Time
}

// Memory is the single-node broker: channels, offsets, epochs, history,
// idempotency keys and presence live in this process, and every publication is
// delivered to the Handler synchronously, from the publisher's goroutine.
// Every piece of it is bounded: a channel that never had a publication is kept
// only while subscribed and briefly after (emptyTTL), one that had some for
// MetaTTL after the last, at most MaxChannels of those, each with at most
// HistorySize publications and idempotencyCap keys.
//
// A Memory is shared by every session and the API of its node; all its
// methods are safe for concurrent use. It owns its channel state. Channels are
// spread over shards; a shard's mutex guards only its maps and is held for
// lookups, never while calling the Handler, and never waits for a stream's
// mutex (the sweeper only tries it). Each channel has its own mutex,
// held by Publish while it calls Handler.HandlePublication, so a slow handler
// blocks publishes and history reads on that one channel, and nothing else.
// No method waits on I/O; Memory never returns protocol.ErrUnavailable.
type Memory struct {
	opts   MemoryOptions
	h      Handler
	seed   maphash.Seed
	idle   idleList
	shards [shardCount]shard
}

// shard holds a slice of the channels. Its mutex guards the maps only, never
// a stream's contents.
type shard struct {
	mu       sync.Mutex
	streams  map[string]*stream
	subs     map[string]int                            // channel -> Subscribe calls not yet undone
	peak     int                                       // most streams since the map was last rebuilt
	presence map[string]map[string]protocol.ClientInfo // channel -> client id -> info
}

// NewMemory returns a Memory that delivers to h. h must not be nil. Call Run
// to reclaim the memory of expired channels.
func NewMemory(opts MemoryOptions, h Handler) *Memory {
	if h == nil {
		panic("broker.NewMemory: nil Handler")
	}
	if opts.MetaTTL <= 0 {
		opts.MetaTTL = DefaultMetaTTL
	}
	if opts.SweepInterval <= 0 {
		opts.SweepInterval = max(min(DefaultSweepInterval, emptyTTL(opts.MetaTTL)/2), 100*time.Millisecond)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(prometheus.NewRegistry())
	}
	m := &Memory{opts: opts, h: h, seed: maphash.MakeSeed(), idle: idleList{max: opts.MaxChannels}}
	for i := range m.shards {
		m.shards[i].streams = make(map[string]*stream)
		m.shards[i].subs = make(map[string]int)
		m.shards[i].presence = make(map[string]map[string]protocol.ClientInfo)
	}
	return m
}

// Publish assigns the next offset on channel, keeps the publication in
// history and delivers it to the Handler before returning. A repeat of an
// IdempotencyKey seen on channel within protocol.IdempotencyWindow returns the
// first publication's position and publishes nothing. data is kept as given:
// the caller must not modify it afterwards.
func (m *Memory) Publish(ctx context.Context, channel string, data []byte, opts protocol.PublishOptions) (protocol.Position, error) {
	if err := ctx.Err(); err != nil {
		return protocol.Position{}, fmt.Errorf("publish %s: %w", channel, err)
	}
	s, now := m.lock(channel)
	pos, evicted := m.publishLocked(s, now, data, opts)
	s.mu.Unlock()
	m.forgetAll(evicted)
	return pos, nil
}

// publishLocked publishes on s, whose mutex the caller holds, and returns the
// streams it evicted to stay within MaxChannels, for the caller to take out
// of their shards once it holds no stream's mutex.
func (m *Memory) publishLocked(s *stream, now time.Time, data []byte, opts protocol.PublishOptions) (protocol.Position, []*stream) {
	if pos, ok := s.keys.lookup(opts.IdempotencyKey, now); ok {
		return pos, nil
	}
	p := s.append(s.channel, data, opts, now, m.opts.HistorySize)
	pos := protocol.Position{Offset: p.Offset, Epoch: p.Epoch}
	s.keys.record(opts.IdempotencyKey, pos, now, idempotencyCap(m.opts.HistorySize))
	evicted := m.idle.published(s, now)
	if len(evicted) > 0 {
		m.opts.Metrics.HistoryEvictions.Add(float64(len(evicted)))
	}
	// Still under the channel's lock: delivery order is offset order, and a
	// History call cannot fall between a publication and its delivery.
	m.h.HandlePublication(p)
	return pos, evicted
}

// History returns channel's position and the publications q selects, in
// ascending offset order. A channel never seen before gets its epoch now, at
// offset 0, so a subscriber to an empty channel can recover with it later;
// it is kept while subscribed and for emptyTTL after.
func (m *Memory) History(ctx context.Context, channel string, q protocol.HistoryQuery) (protocol.History, error) {
	if err := ctx.Err(); err != nil {
		return protocol.History{}, fmt.Errorf("history %s: %w", channel, err)
	}
	s, _ := m.lock(channel)
	defer s.mu.Unlock()
	return s.history(q), nil
}

// Subscribe counts a subscriber of channel, which keeps the epoch of a
// channel without publications alive; every publication already reaches the
// Handler.
func (m *Memory) Subscribe(ctx context.Context, channel string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sh := m.shard(channel)
	sh.mu.Lock()
	sh.subs[channel]++
	sh.mu.Unlock()
	return nil
}

// Unsubscribe undoes one Subscribe. With the last one, a channel without
// publications starts its emptyTTL.
func (m *Memory) Unsubscribe(ctx context.Context, channel string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sh := m.shard(channel)
	sh.mu.Lock()
	sh.subs[channel]--
	last := sh.subs[channel] <= 0
	if last {
		delete(sh.subs, channel)
	}
	s := sh.streams[channel]
	sh.mu.Unlock()
	if last && s != nil {
		s.mu.Lock()
		s.touched = m.opts.Now()
		s.mu.Unlock()
	}
	return nil
}

// Disconnect asks the Handler to close every connection of user.
func (m *Memory) Disconnect(ctx context.Context, user string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("disconnect %s: %w", user, err)
	}
	m.h.HandleDisconnect(user)
	return nil
}

// Nodes lists the live nodes: this one.
func (m *Memory) Nodes(ctx context.Context) ([]protocol.NodeInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("nodes: %w", err)
	}
	if m.opts.Node == nil {
		return []protocol.NodeInfo{}, nil
	}
	return []protocol.NodeInfo{m.opts.Node()}, nil
}

func (m *Memory) shard(channel string) *shard {
	return &m.shards[maphash.String(m.seed, channel)%shardCount]
}
