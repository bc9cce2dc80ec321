package broker

import (
	"context"
	"time"
)

// Run sweeps expired state every SweepInterval until ctx is done, then
// returns nil: channels whose MetaTTL passed are dropped, expired histories
// and idempotency keys are released. Every access checks expiry too, so Run
// only bounds memory; a Memory without Run behaves the same but keeps idle
// channels' memory. Run one sweeper per Memory.
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
		m.shards[i].sweep(now, &m.opts)
	}
}

func (sh *shard) sweep(now time.Time, o *MemoryOptions) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for name, s := range sh.streams {
		// A stream whose lock is taken is in use right now, so it is not
		// expiring. Not waiting also means the sweeper never holds a shard
		// while a Handler runs, whatever the Handler does.
		if !s.mu.TryLock() {
			continue
		}
		if s.metaExpired(now, o.MetaTTL) {
			s.removed = true
			delete(sh.streams, name)
		} else {
			s.expireHistory(now, o.HistoryTTL)
			s.keys.prune(now)
		}
		s.mu.Unlock()
	}
}
