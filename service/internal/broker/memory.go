package broker

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	"github.com/wsgateway/wsgateway/service/internal/protocol"
)

// DefaultMetaTTL is how long a channel's offset and epoch outlive its last
// publication or read when MemoryOptions.MetaTTL is zero.
const DefaultMetaTTL = 24 * time.Hour

// DefaultSweepInterval is how often Run sweeps when
// MemoryOptions.SweepInterval is zero. Expiry is also checked on every access,
// so the interval bounds only how long expired state keeps its memory.
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
	// publication or read (DefaultMetaTTL when zero); after that the channel
	// starts over at offset 1 with a new epoch, so clients cannot mistake the
	// new stream for the old one. It should not be shorter than HistoryTTL.
	MetaTTL time.Duration
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
//
// A Memory is shared by every session and the API of its node; all its
// methods are safe for concurrent use. It owns its channel state. Channels are
// spread over shards; a shard's mutex guards only its maps and is held for
// lookups, never while calling the Handler. Each channel has its own mutex,
// held by Publish while it calls Handler.HandlePublication, so a slow handler
// blocks publishes and history reads on that one channel, and nothing else.
// No method waits on I/O; Memory never returns protocol.ErrUnavailable.
type Memory struct {
	opts   MemoryOptions
	h      Handler
	seed   maphash.Seed
	shards [shardCount]shard
}

// shard holds a slice of the channels. Its mutex guards the maps only, never
// a stream's contents.
type shard struct {
	mu       sync.Mutex
	streams  map[string]*stream
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
		opts.SweepInterval = DefaultSweepInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := &Memory{opts: opts, h: h, seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].streams = make(map[string]*stream)
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
	defer s.mu.Unlock()
	if pos, ok := s.keys.lookup(opts.IdempotencyKey, now); ok {
		return pos, nil
	}
	p := s.append(channel, data, opts, now, m.opts.HistorySize)
	pos := protocol.Position{Offset: p.Offset, Epoch: p.Epoch}
	s.keys.record(opts.IdempotencyKey, pos, now)
	// Still under the channel's lock: delivery order is offset order, and a
	// History call cannot fall between a publication and its delivery.
	m.h.HandlePublication(p)
	return pos, nil
}

// History returns channel's position and the publications q selects, in
// ascending offset order. A channel never seen before gets its epoch now, at
// offset 0, so a subscriber to an empty channel can recover with it later.
func (m *Memory) History(ctx context.Context, channel string, q protocol.HistoryQuery) (protocol.History, error) {
	if err := ctx.Err(); err != nil {
		return protocol.History{}, fmt.Errorf("history %s: %w", channel, err)
	}
	s, _ := m.lock(channel)
	defer s.mu.Unlock()
	return s.history(q), nil
}

// Subscribe does nothing: every publication already reaches the Handler.
func (m *Memory) Subscribe(ctx context.Context, channel string) error {
	return ctx.Err()
}

// Unsubscribe does nothing, for the same reason as Subscribe.
func (m *Memory) Unsubscribe(ctx context.Context, channel string) error {
	return ctx.Err()
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

// lock returns channel's stream, created if absent, with its mutex held and
// expiry applied as of the returned time. The caller unlocks it.
func (m *Memory) lock(channel string) (*stream, time.Time) {
	sh := m.shard(channel)
	for {
		sh.mu.Lock()
		s := sh.streams[channel]
		if s == nil {
			s = newStream(m.opts.Now())
			sh.streams[channel] = s
		}
		sh.mu.Unlock()
		s.mu.Lock()
		// The sweeper may have removed s between the lookup and the lock;
		// then a fresh stream (new epoch) is the right one to use.
		if !s.removed {
			now := m.opts.Now()
			s.refresh(now, &m.opts)
			return s, now
		}
		s.mu.Unlock()
	}
}
