package events

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/streams"
)

// renewAfter is how long a held lease goes without renewal at least; the
// sender renews between steps, each shorter than LeaseTTL - LeaseRenew.
const renewAfter = time.Second

// renewScript moves the lease's expiry if it is still ours.
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`)

// releaseScript deletes the lease if it is still ours.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)

// lease is one partition lease held by this node; its sender's goroutine
// owns it.
type lease struct {
	rdb     redis.UniversalClient
	key, me string
	renewed time.Time
}

// renew keeps the lease and reports whether it is still held. A failed
// renewal gives it up at once: it may expire before the next try, and a
// sender that kept going could then send alongside the next holder.
func (l *lease) renew(ctx context.Context) bool {
	if time.Since(l.renewed) < renewAfter {
		return true
	}
	n, err := renewScript.Run(ctx, l.rdb, []string{l.key}, l.me, streams.LeaseTTL.Milliseconds()).Int()
	if err != nil || n != 1 {
		return false
	}
	l.renewed = time.Now()
	return true
}

// release hands the lease back, so another node need not wait for it to
// expire (a node shutting down).
func (l *lease) release() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = releaseScript.Run(ctx, l.rdb, []string{l.key}, l.me).Err()
}
