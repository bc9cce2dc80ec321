package worker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/streams"
)

// process runs one batch until it is acknowledged (handled or dead). It
// returns false when the partition must stop: lease lost, drain, or Redis
// failing; the batch then stays pending for the next holder. A fresh batch
// (read with ">") has no attempts yet: only a holder that read an entry
// counts them, so the lookup is for adopted ones.
func (p *partition) process(ctx context.Context, msgs []redis.XMessage, fresh bool) bool {
	b := Batch{Part: p.part, Entries: toEntries(msgs)}
	first := b.Entries[0].ID
	prior := 0
	if !fresh {
		var err error
		prior, err = p.c.Redis.HGet(ctx, p.part.Attempts(p.c.ConsumerGroup), first).Int()
		if err != nil && !errors.Is(err, redis.Nil) {
			p.c.Logger.Warn("reading attempts failed", "partition", p.part.N, "err", err)
			return false
		}
	}
	for {
		if prior >= p.c.MaxAttempts { // counted by a previous holder that died before dead-lettering
			return p.dead(ctx, b, prior, errors.New("max attempts reached"))
		}
		b.Attempt = prior + 1
		herr := p.call(b)
		if herr == nil {
			p.c.m.handled.WithLabelValues("ok").Add(float64(len(b.Entries)))
			return p.ack(ctx, b)
		}
		if p.hard.Err() != nil { // lease lost or drain timeout: the run does not count
			return false
		}
		n, err := failScript.Run(ctx, p.c.Redis, []string{p.part.Lease(p.c.ConsumerGroup), p.part.Attempts(p.c.ConsumerGroup)},
			p.c.Name, first).Int()
		if err != nil {
			p.c.Logger.Warn("counting a failed attempt failed", "partition", p.part.N, "err", err)
			return false
		}
		if n < 0 {
			p.lose("held by another consumer", nil)
			return false
		}
		if IsPermanent(herr) || n >= p.c.MaxAttempts {
			return p.dead(ctx, b, n, herr)
		}
		p.c.m.handled.WithLabelValues("retry").Add(float64(len(b.Entries)))
		p.c.Logger.Info("handler failed; retrying", "partition", p.part.N, "entry", first, "attempt", n, "err", herr)
		prior = n
		t := time.NewTimer(p.c.Backoff(n))
		select {
		case <-t.C:
		case <-p.soft: // draining: the entry stays pending
			t.Stop()
			return false
		}
	}
}

// call runs the handler once, within the concurrency bound, turning a panic
// into an error.
func (p *partition) call(b Batch) (err error) {
	if p.c.sem != nil {
		select {
		case p.c.sem <- struct{}{}:
			defer func() { <-p.c.sem }()
		case <-p.hard.Done():
			return p.hard.Err()
		}
	}
	start := time.Now()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panic: %v", r)
		}
		p.c.m.duration.Observe(time.Since(start).Seconds())
	}()
	return p.c.Handle(p.hard, b)
}

func (p *partition) ack(ctx context.Context, b Batch) bool {
	del := "1"
	if p.part.Group == streams.Events {
		del = "0"
	}
	args := []any{p.c.Name, p.c.ConsumerGroup, del}
	for _, e := range b.Entries {
		args = append(args, e.ID)
	}
	keys := []string{p.part.Lease(p.c.ConsumerGroup), p.part.Stream(), p.part.Attempts(p.c.ConsumerGroup)}
	n, err := ackScript.Run(ctx, p.c.Redis, keys, args...).Int()
	if err != nil {
		p.c.Logger.Warn("acknowledging failed", "partition", p.part.N, "err", err)
		return false
	}
	if n == 0 {
		p.lose("held by another consumer", nil)
		return false
	}
	return true
}

// dead writes the batch to the dead letters, then acknowledges it. The dead
// letter stream is in another slot than the partition, so the two steps
// cannot be one script: a crash between them leaves the entry pending and
// dead-lettered once more by the next holder (never lost).
func (p *partition) dead(ctx context.Context, b Batch, attempts int, herr error) bool {
	key := streams.DeadLetterKey(p.part.Group, p.c.ConsumerGroup)
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	for _, e := range b.Entries {
		vals := make(map[string]any, len(e.Fields)+5)
		for k, v := range e.Fields {
			vals[k] = v
		}
		vals[streams.FieldOrigID] = e.ID
		vals[streams.FieldPartition] = strconv.Itoa(p.part.N)
		vals[streams.FieldAttempts] = strconv.Itoa(attempts)
		vals[streams.FieldError] = herr.Error()
		vals[streams.FieldDeadMS] = now
		if err := p.c.Redis.XAdd(ctx, &redis.XAddArgs{Stream: key, Values: vals}).Err(); err != nil {
			p.c.Logger.Warn("writing a dead letter failed", "partition", p.part.N, "err", err)
			return false
		}
	}
	p.c.m.handled.WithLabelValues("dead").Add(float64(len(b.Entries)))
	p.c.Logger.Warn("entries moved to the dead letters", "partition", p.part.N, "entry", b.Entries[0].ID,
		"count", len(b.Entries), "attempts", attempts, "err", herr)
	if p.c.Dead != nil {
		p.c.Dead(p.hard, b, herr)
	}
	return p.ack(ctx, b)
}
