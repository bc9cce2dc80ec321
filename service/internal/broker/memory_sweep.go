package broker

import (
	"context"
	"time"
)

// Run sweeps expired state every SweepInterval until ctx is done, then
// returns nil: channels whose MetaTTL (or, without publications, emptyTTL)
// passed are dropped, expired histories and idempotency keys are released.
// Every access checks expiry too, so Run only bounds memory; a Memory
// without Run behaves the same but keeps idle channels' memory. Run one
// sweeper per Memory.
func (m *Memory) Run(ctx context.Context) error {
	t := time.NewTicker(m.opts.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			m.sweep(m.opts.Now())
		}
	}
}

// sweep drops what has expired as of now, one shard at a time.
func (m *Memory) sweep(now time.Time) {
	for i := range m.shards {
		m.sweepShard(&m.shards[i], now)
	}
}

func (m *Memory) sweepShard(sh *shard, now time.Time) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for name, s := range sh.streams {
		// A stream whose lock is taken is in use right now, so it is not
		// expiring. Not waiting also means the sweeper never holds a shard
		// while a Handler runs, whatever the Handler does.
		if !s.mu.TryLock() {
			continue
		}
		switch {
		case s.removed: // evicted: its publisher left it for us or the next lookup
		case s.expired(now, &m.opts, sh.subs[name] > 0):
			m.drop(s)
		default:
			s.expireHistory(now, m.opts.HistoryTTL)
			s.keys.prune(now)
		}
		if s.removed {
			sh.forget(s, m.opts.Metrics)
		}
		s.mu.Unlock()
	}
	sh.shrink()
}

// shrinkBelow is the size under which a shard's maps are not worth
// rebuilding.
const shrinkBelow = 256

// shrink rebuilds the shard's maps once they hold a quarter of their peak or
// less: a Go map keeps the room of its largest size, so without this a burst
// of channels would leave its memory behind after the channels are gone.
// Callers hold sh.mu.
func (sh *shard) shrink() {
	if sh.peak < shrinkBelow || len(sh.streams) > sh.peak/4 {
		return
	}
	sh.streams = rebuilt(sh.streams)
	sh.subs = rebuilt(sh.subs)
	sh.peak = len(sh.streams)
}

// rebuilt copies m into a map sized for its entries (maps.Clone keeps the
// source's room).
func rebuilt[V any](m map[string]V) map[string]V {
	out := make(map[string]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// lock returns channel's stream, created if absent, with its mutex held and
// expiry applied as of the returned time. The caller unlocks it.
func (m *Memory) lock(channel string) (*stream, time.Time) {
	sh := m.shard(channel)
	for {
		sh.mu.Lock()
		s := sh.streams[channel]
		if s == nil {
			s = newStream(channel, m.opts.Now())
			sh.streams[channel] = s
			m.opts.Metrics.Channels.Inc()
			sh.peak = max(sh.peak, len(sh.streams))
		}
		subscribed := sh.subs[channel] > 0
		sh.mu.Unlock()
		s.mu.Lock()
		// The sweeper or an eviction may have removed s between the lookup
		// and the lock; then a fresh stream (new epoch) is the right one.
		if !s.removed {
			now := m.opts.Now()
			if !s.expired(now, &m.opts, subscribed) {
				s.expireHistory(now, m.opts.HistoryTTL)
				s.touched = now
				return s, now
			}
			m.drop(s)
		}
		m.forget(s)
		s.mu.Unlock()
	}
}

// drop marks s removed and takes it off the idle list; the caller holds s.mu
// and takes it out of its shard (forget).
func (m *Memory) drop(s *stream) {
	s.removed = true
	m.idle.remove(s)
}

// forget deletes a removed stream from its shard's map, unless the map has
// moved on to a newer stream of the channel.
func (m *Memory) forget(s *stream) {
	sh := m.shard(s.channel)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.forget(s, m.opts.Metrics)
}

func (m *Memory) forgetAll(ss []*stream) {
	for _, s := range ss {
		m.forget(s)
	}
}

// forget deletes s from the map if it is still there. Callers hold sh.mu.
func (sh *shard) forget(s *stream, metrics *Metrics) {
	if sh.streams[s.channel] == s {
		delete(sh.streams, s.channel)
		metrics.Channels.Dec()
	}
}
