package worker

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/streams"
)

// heartbeat marks this consumer live in the workers set (the gateway's
// no-worker check and the spreading read it).
func (c *Consumer) heartbeat(ctx context.Context) error {
	now := time.Now().UnixMilli()
	return c.Redis.ZAdd(ctx, streams.WorkersKey(c.Group), redis.Z{Score: float64(now), Member: c.Name}).Err()
}

// liveWorkers counts the consumers seen within three heartbeats, and drops
// the older ones (gone without a clean stop) from the set.
func (c *Consumer) liveWorkers(ctx context.Context) (int, error) {
	since := strconv.FormatInt(time.Now().Add(-3*streams.Heartbeat).UnixMilli(), 10)
	key := streams.WorkersKey(c.Group)
	if err := c.Redis.ZRemRangeByScore(ctx, key, "-inf", "("+since).Err(); err != nil {
		return 1, err
	}
	n, err := c.Redis.ZCount(ctx, key, since, "+inf").Result()
	return max(int(n), 1), err
}

// balance takes free partitions while this consumer holds fewer than its
// share ceil(P / live workers), and gives one back per tick while it holds
// more, so a new worker gets partitions without anyone's lease expiring.
func (c *Consumer) balance(ctx context.Context, parts int, wg *sync.WaitGroup) {
	live, err := c.liveWorkers(ctx)
	if err != nil {
		c.Logger.Warn("counting workers failed", "err", err)
		return
	}
	share := (parts + live - 1) / live
	c.mu.Lock()
	defer c.mu.Unlock()
	defer func() { c.m.leases.Set(float64(len(c.held))) }()
	for n, p := range c.held { // forget partitions that ended (lease lost)
		if p.ended() {
			delete(c.held, n)
		}
	}
	if len(c.held) > share {
		for _, p := range c.held {
			if !p.stopping() {
				p.stopSoft()
				break
			}
		}
		return
	}
	if len(c.held) == share {
		return
	}
	free, err := c.freeParts(ctx, parts)
	if err != nil {
		c.Logger.Warn("reading leases failed", "err", err)
		return
	}
	for _, n := range free {
		if len(c.held) >= share {
			break
		}
		part := streams.Part{Group: c.Group, N: n}
		ok, err := part.TakeLease(ctx, c.Redis, c.ConsumerGroup, c.Name)
		if err != nil {
			c.Logger.Warn("taking a lease failed", "partition", n, "err", err)
			return
		}
		if ok {
			p := newPartition(c, part)
			c.held[n] = p
			wg.Add(1)
			go func() { defer wg.Done(); p.run(ctx) }()
		}
	}
}

// lag sums the last known backlog of the held partitions.
func (c *Consumer) lag() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	for _, p := range c.held {
		n += p.lag.Load()
	}
	return float64(n)
}

// freeParts lists the partitions whose lease nobody holds, in random order
// (so workers starting together spread), in one pipeline: a worker below
// its share looks every tick, and SET NX on every partition each time
// would cost P commands.
func (c *Consumer) freeParts(ctx context.Context, parts int) ([]int, error) {
	cmds := make([]*redis.IntCmd, parts)
	_, err := c.Redis.Pipelined(ctx, func(p redis.Pipeliner) error {
		for n := range parts {
			cmds[n] = p.Exists(ctx, streams.Part{Group: c.Group, N: n}.Lease(c.ConsumerGroup))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var free []int
	for n, cmd := range cmds {
		if cmd.Val() == 0 && c.held[n] == nil {
			free = append(free, n)
		}
	}
	rand.Shuffle(len(free), func(i, j int) { free[i], free[j] = free[j], free[i] })
	return free, nil
}
