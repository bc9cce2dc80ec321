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

// lease is one partition lease (of GroupWebhook) held by this node; its
// sender's goroutine owns it.
type lease struct {
	rdb     redis.UniversalClient
	part    streams.Part
	me      string
	renewed time.Time
}

// renew keeps the lease and reports whether it is still held. A failed
// renewal gives it up at once: it may expire before the next try, and a
// sender that kept going could then send alongside the next holder.
func (l *lease) renew(ctx context.Context) bool {
	if time.Since(l.renewed) < renewAfter {
		return true
	}
	held, err := l.part.RenewLease(ctx, l.rdb, streams.GroupWebhook, l.me)
	if err != nil || !held {
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
	_ = l.part.ReleaseLease(ctx, l.rdb, streams.GroupWebhook, l.me)
}
