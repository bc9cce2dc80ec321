package broker

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// A channel that never had a publication leaves nothing in Redis for long.
// Its meta (offset 0 and an epoch) is created by the first read, so that its
// subscribers recover with that epoch once publications come, but with
// redisEmptyTTL rather than MetaTTL; every node that subscribes renews it at
// each position check, and once the last one left it expires. The first
// publication gives it MetaTTL.

// redisEmptyTTL is how long the meta of a channel without publications lives
// after the read that created it or the last renewal: DefaultEmptyTTL (at
// most MetaTTL, as in the in-process broker), and at least three position
// checks, so that one slow check does not let a subscribed channel's epoch
// lapse.
func redisEmptyTTL(metaTTL time.Duration) time.Duration { return max(emptyTTL(metaTTL), 3*checkEvery) }

// renewIfEmpty queues on p the renewal of ch's meta when the node has seen no
// publication on it. GT never shortens a meta that has publications, and
// PEXPIRE creates nothing when the meta is gone.
func (s *subscriptions) renewIfEmpty(ctx context.Context, p redis.Pipeliner, ch string, cs *chanSub) {
	cs.mu.Lock()
	empty := cs.last == 0
	cs.mu.Unlock()
	if empty {
		p.Do(ctx, "PEXPIRE", metaKey(ch), redisEmptyTTL(s.metaTTL).Milliseconds(), "GT")
	}
}
