package hooks

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Connect coalescing and cache. A reconnect storm brings the same tokens
// back many times within seconds: identical calls in flight share one
// backend call, and a positive answer is kept for cacheTTL (never past the
// token's exp nor the answer's expire_at) so the next wave does not call
// again. Only positive answers are cached: an error or a disconnect may
// depend on state the backend changes at any moment (a ban lifted, a
// session renewed), and a failure must not outlive the outage.
const (
	cacheTTL  = 5 * time.Second
	cacheSize = 10000 // entries; the oldest goes first
)

// coalescer is owned by the connect Route; safe for concurrent use. mu
// guards the cache; nothing blocks while holding it.
type coalescer struct {
	group singleflight.Group
	now   func() time.Time

	mu    sync.Mutex
	cache map[string]cacheEntry
	order []orderItem // insertion order, oldest first; may hold stale items
	seq   uint64
}

type cacheEntry struct {
	ans   Answer
	until time.Time
	seq   uint64
}

type orderItem struct {
	key string
	seq uint64
}

func newCoalescer() *coalescer {
	return &coalescer{now: time.Now, cache: make(map[string]cacheEntry)}
}

// do answers req from the cache, or from the call in flight for the same
// key, or starts that call. The shared call runs with the first caller's
// request (its client id, its trace) and without its cancellation, so one
// caller leaving does not fail the others; each caller still waits only as
// long as its own ctx allows.
func (c *coalescer) do(ctx context.Context, r *Route, req Request) Answer {
	key := req.CoalesceKey
	if a, ok := c.get(key); ok {
		return a
	}
	ch := c.group.DoChan(key, func() (any, error) {
		a := r.call(context.WithoutCancel(ctx), req)
		if a.Result != nil && !a.Failed {
			c.put(key, a, req.ExpiresAt)
		}
		return a, nil
	})
	select {
	case res := <-ch:
		return share(res.Val.(Answer))
	case <-ctx.Done():
		return r.onError()
	}
}

// share gives each caller its own Answer and Result structs; what they
// point to (lists, JSON) is shared and read-only.
func share(a Answer) Answer {
	if a.Result != nil {
		res := *a.Result
		a.Result = &res
	}
	return a
}

func (c *coalescer) get(key string) (Answer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.cache[key]
	if !ok {
		return Answer{}, false
	}
	if !c.now().Before(e.until) {
		delete(c.cache, key)
		return Answer{}, false
	}
	return share(e.ans), true
}

// put caches a positive answer until the earliest of cacheTTL from now,
// the token's exp and the answer's expire_at.
func (c *coalescer) put(key string, a Answer, exp time.Time) {
	now := c.now()
	until := now.Add(cacheTTL)
	if !exp.IsZero() && exp.Before(until) {
		until = exp
	}
	if a.Result.ExpireAt > 0 {
		if e := time.Unix(a.Result.ExpireAt, 0); e.Before(until) {
			until = e
		}
	}
	if !now.Before(until) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	c.cache[key] = cacheEntry{ans: a, until: until, seq: c.seq}
	c.order = append(c.order, orderItem{key, c.seq})
	for len(c.cache) > cacheSize {
		c.evictOldest()
	}
	if len(c.order) > 2*cacheSize {
		c.compact()
	}
}

// evictOldest removes the oldest live entry; items of replaced or expired
// entries are dropped on the way.
func (c *coalescer) evictOldest() {
	for len(c.order) > 0 {
		it := c.order[0]
		c.order = c.order[1:]
		if e, ok := c.cache[it.key]; ok && e.seq == it.seq {
			delete(c.cache, it.key)
			return
		}
	}
}

// compact drops the order items of entries no longer cached, so a key put
// again and again does not grow the queue without bound.
func (c *coalescer) compact() {
	live := make([]orderItem, 0, len(c.cache))
	for _, it := range c.order {
		if e, ok := c.cache[it.key]; ok && e.seq == it.seq {
			live = append(live, it)
		}
	}
	c.order = live
}
