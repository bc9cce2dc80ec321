package broker

import "time"

// The bounds both brokers share, so that a channel lives as long and
// remembers as many idempotency keys with Memory as with Redis.

// DefaultMetaTTL is how long a channel's offset and epoch outlive its last
// publication when the options' MetaTTL is zero. A node sets MetaTTL from
// --channel-meta-ttl, whose default this is.
const DefaultMetaTTL = 24 * time.Hour

// DefaultEmptyTTL is how long a channel that never had a publication keeps
// its epoch after its last read or subscriber (at most MetaTTL): long enough
// for a client that reconnects to recover with it, short enough that
// subscribing to many channels leaves nothing behind for long.
const DefaultEmptyTTL = time.Minute

// emptyTTL is DefaultEmptyTTL, or MetaTTL when that is shorter: a channel
// without publications never outlives one with them.
func emptyTTL(metaTTL time.Duration) time.Duration { return min(DefaultEmptyTTL, metaTTL) }

// MinIdempotencyKeys is the least number of idempotency keys a channel
// remembers; see idempotencyCap.
const MinIdempotencyKeys = 1000

// idempotencyCap is how many idempotency keys one channel remembers, in both
// brokers: as many as its history holds publications, and at least
// MinIdempotencyKeys. Beyond it the oldest key is forgotten before its
// protocol.IdempotencyWindow is over, so a retry that comes after that many
// newer keyed publishes on the same channel publishes again. Tying the cap to
// the history keeps the keys' memory within what the history's own bound
// already allows for.
func idempotencyCap(historySize int) int { return max(historySize, MinIdempotencyKeys) }
