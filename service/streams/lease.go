package streams

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// A partition lease (Part.Lease) names the one consumer of a consumer group
// that reads the partition: the worker library's consumers and the gateway's
// webhook sender take, renew and release it the same way, here. Renewal and
// release check the holder in one script, so a consumer whose lease expired
// and was taken by another can neither extend nor delete its successor's.

// renewScript extends the lease if the caller holds it.
// KEYS: lease. ARGV: holder, ttl ms. Returns 1 if renewed.
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`)

// releaseScript deletes the lease if the caller holds it.
// KEYS: lease. ARGV: holder.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)

// TakeLease takes p's lease of consumerGroup for holder, for LeaseTTL, if
// nobody holds it, and reports whether it did.
func (p Part) TakeLease(ctx context.Context, rdb redis.Cmdable, consumerGroup, holder string) (bool, error) {
	ok, err := rdb.SetNX(ctx, p.Lease(consumerGroup), holder, LeaseTTL).Result()
	if err != nil {
		return false, fmt.Errorf("take lease %s: %w", p.Lease(consumerGroup), err)
	}
	return ok, nil
}

// RenewLease extends p's lease of consumerGroup to LeaseTTL from now if
// holder still holds it. It reports false, with a nil error, when the lease
// is someone else's or gone: the holder must stop at once.
func (p Part) RenewLease(ctx context.Context, rdb redis.Scripter, consumerGroup, holder string) (bool, error) {
	n, err := renewScript.Run(ctx, rdb, []string{p.Lease(consumerGroup)}, holder, LeaseTTL.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("renew lease %s: %w", p.Lease(consumerGroup), err)
	}
	return n == 1, nil
}

// ReleaseLease deletes p's lease of consumerGroup if holder holds it, so
// another consumer need not wait for it to expire.
func (p Part) ReleaseLease(ctx context.Context, rdb redis.Scripter, consumerGroup, holder string) error {
	if err := releaseScript.Run(ctx, rdb, []string{p.Lease(consumerGroup)}, holder).Err(); err != nil {
		return fmt.Errorf("release lease %s: %w", p.Lease(consumerGroup), err)
	}
	return nil
}
