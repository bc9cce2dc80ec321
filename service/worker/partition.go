package worker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/streams"
)

// readBlock bounds one blocking read, so a partition notices a drain or a
// lost lease within it.
const readBlock = time.Second

// partition consumes one partition while its lease is held. Its run
// goroutine owns the reading, the handler calls and the acks; its renew
// goroutine owns the lease's renewal and ends the partition when the lease
// is lost.
type partition struct {
	c    *Consumer
	part streams.Part

	soft     chan struct{} // closed: take no new entries
	softOnce sync.Once
	hard     context.Context // the handlers' context: ends on a lost lease or the drain timeout
	stopH    context.CancelFunc
	lostFlag atomic.Bool
	done     chan struct{} // closed when run returned
	lag      atomic.Int64  // XLEN at the last look: entries not yet acknowledged
	lagAt    time.Time     // owned by run
}

func newPartition(c *Consumer, part streams.Part) *partition {
	hard, stop := context.WithCancel(context.Background())
	return &partition{c: c, part: part, soft: make(chan struct{}), hard: hard, stopH: stop, done: make(chan struct{})}
}

func (p *partition) stopSoft() { p.softOnce.Do(func() { close(p.soft) }) }
func (p *partition) stopHard() { p.stopSoft(); p.stopH() }

func (p *partition) stopping() bool {
	select {
	case <-p.soft:
		return true
	default:
		return false
	}
}

func (p *partition) ended() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// lose ends the partition at once: another worker may take it any moment.
func (p *partition) lose(reason string, err error) {
	if p.lostFlag.CompareAndSwap(false, true) {
		p.c.Logger.Warn("partition lease lost", "partition", p.part.N, "reason", reason, "err", err)
		p.c.m.leasesLost.Inc()
	}
	p.stopHard()
}

func (p *partition) run(ctx context.Context) {
	defer close(p.done)
	defer p.stopH()
	// The lease is renewed until consume returns, not merely until the
	// drain begins: an in-flight handler may outlast the lease's TTL.
	consumed, renewDone := make(chan struct{}), make(chan struct{})
	go func() { defer close(renewDone); p.renew(ctx, consumed) }()
	p.consume(ctx)
	p.stopSoft()
	close(consumed)
	<-renewDone
	if !p.lostFlag.Load() {
		if err := p.part.ReleaseLease(ctx, p.c.Redis, p.c.ConsumerGroup, p.c.Name); err != nil {
			p.c.Logger.Warn("releasing a lease failed", "partition", p.part.N, "err", err)
		}
	}
}

// renew keeps the lease while the partition runs. It gives up (and stops
// the partition) when the lease is someone else's, or when it could not
// renew for half the TTL: the partition stops before the lease expires.
func (p *partition) renew(ctx context.Context, consumed <-chan struct{}) {
	t := time.NewTicker(streams.LeaseRenew / 3)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-consumed:
			return
		case <-t.C:
		}
		if time.Since(last) < streams.LeaseRenew {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		held, err := p.part.RenewLease(rctx, p.c.Redis, p.c.ConsumerGroup, p.c.Name)
		cancel()
		switch {
		case err == nil && held:
			last = time.Now()
		case err == nil:
			p.lose("held by another consumer", nil)
			return
		case time.Since(last) > streams.LeaseTTL/2:
			p.lose("renewal failing", err)
			return
		}
	}
}

// consume adopts the pending entries (the previous holder's and its own)
// in id order, then reads new ones, one batch at a time.
func (p *partition) consume(ctx context.Context) {
	if err := p.ensureGroup(ctx); err != nil {
		p.c.Logger.Warn("creating the consumer group failed", "partition", p.part.N, "err", err)
		return
	}
	start := "0-0"
	for !p.stopping() {
		msgs, next, err := p.c.Redis.XAutoClaim(ctx, &redis.XAutoClaimArgs{
			Stream: p.part.Stream(), Group: p.c.ConsumerGroup, Consumer: p.c.Name,
			Start: start, Count: int64(p.c.BatchSize),
		}).Result()
		if err != nil {
			p.c.Logger.Warn("adopting pending entries failed", "partition", p.part.N, "err", err)
			return
		}
		if len(msgs) > 0 && !p.process(ctx, msgs, false) {
			return
		}
		if next == "0-0" {
			break
		}
		start = next
	}
	for !p.stopping() {
		msgs, err := p.read(ctx)
		if err != nil {
			p.c.Logger.Warn("reading a partition failed", "partition", p.part.N, "err", err)
			return
		}
		// Entries read while stopping stay pending: the next holder adopts them first.
		if len(msgs) > 0 && (p.stopping() || !p.process(ctx, msgs, true)) {
			return
		}
	}
}

func (p *partition) read(ctx context.Context) ([]redis.XMessage, error) {
	if time.Since(p.lagAt) >= time.Second {
		p.lagAt = time.Now()
		if n, err := p.backlog(ctx); err == nil {
			p.lag.Store(n)
		}
	}
	res, err := p.c.Redis.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: p.c.ConsumerGroup, Consumer: p.c.Name, Streams: []string{p.part.Stream(), ">"},
		Count: int64(p.c.BatchSize), Block: readBlock,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(res) == 0 {
		return nil, nil
	}
	return res[0].Messages, nil
}

// ensureGroup creates the consumer group if the gateway has not yet.
func (p *partition) ensureGroup(ctx context.Context) error {
	err := p.c.Redis.XGroupCreateMkStream(ctx, p.part.Stream(), p.c.ConsumerGroup, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("XGROUP CREATE %s %s: %w", p.part.Stream(), p.c.ConsumerGroup, err)
	}
	return nil
}

func toEntries(msgs []redis.XMessage) []Entry {
	out := make([]Entry, 0, len(msgs))
	for _, m := range msgs {
		f := make(map[string]string, len(m.Values))
		for k, v := range m.Values {
			if s, ok := v.(string); ok {
				f[k] = s
			}
		}
		out = append(out, Entry{ID: m.ID, Fields: f})
	}
	return out
}

// backlog is how many entries the consumer group has not acknowledged. An
// inbox partition holds only those (acknowledged entries are deleted); an
// events partition keeps them for the other group, so there it is the
// group's lag plus its pending entries.
func (p *partition) backlog(ctx context.Context) (int64, error) {
	if p.part.Group != streams.Events {
		return p.c.Redis.XLen(ctx, p.part.Stream()).Result()
	}
	groups, err := p.c.Redis.XInfoGroups(ctx, p.part.Stream()).Result()
	if err != nil {
		return 0, err
	}
	for _, g := range groups {
		if g.Name == p.c.ConsumerGroup {
			return max(g.Lag, 0) + g.Pending, nil
		}
	}
	return 0, nil
}
