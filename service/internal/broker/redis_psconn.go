package broker

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/redis/go-redis/v9"
)

// subOp is a pending subscribe or unsubscribe of one pub/sub channel.
type subOp struct {
	name  string
	unsub bool
}

// psConn is one pub/sub connection. Changes are queued and sent in batches,
// so that thousands of channels joining at once (a reconnect storm) cost a
// few SUBSCRIBE commands rather than thousands.
type psConn struct {
	ps      *redis.PubSub
	sharded bool   // SSUBSCRIBE (Cluster mode) rather than SUBSCRIBE
	addr    string // its master's address, its key in subscriptions.conns

	// ctx ends its receiver and flush loop: with the broker, or earlier
	// when a misplaced connection is replaced (redis_reshard.go).
	ctx  context.Context
	stop context.CancelFunc

	mu   sync.Mutex
	ops  []subOp
	kick chan struct{}
}

func newPSConn(ctx context.Context, ps *redis.PubSub, sharded bool, addr string) *psConn {
	ctx, stop := context.WithCancel(ctx)
	return &psConn{ps: ps, sharded: sharded, addr: addr, ctx: ctx, stop: stop, kick: make(chan struct{}, 1)}
}

// close stops its loops and closes the connection.
func (sh *psConn) close() {
	sh.stop()
	_ = sh.ps.Close()
}

func (sh *psConn) enqueue(op subOp) {
	sh.mu.Lock()
	sh.ops = append(sh.ops, op)
	sh.mu.Unlock()
	select {
	case sh.kick <- struct{}{}:
	default:
	}
}

// flushLoop sends queued changes, consecutive ones of a kind together, in
// order. The calls bypass the breaker on purpose: go-redis remembers the
// channels even when the command fails, and subscribes them again when the
// connection comes back, which is exactly what an outage needs.
func (sh *psConn) flushLoop(log *slog.Logger) {
	for {
		select {
		case <-sh.ctx.Done():
			return
		case <-sh.kick:
		}
		sh.mu.Lock()
		ops := sh.ops
		sh.ops = nil
		sh.mu.Unlock()
		for i := 0; i < len(ops); {
			j := i
			names := []string{}
			for ; j < len(ops) && ops[j].unsub == ops[i].unsub; j++ {
				names = append(names, ops[j].name)
			}
			if err := sh.send(sh.ctx, ops[i].unsub, names); err != nil {
				log.Warn("redis pub/sub change failed; it is retried when the connection returns", "channels", len(names), "err", err)
			}
			i = j
		}
	}
}

func (sh *psConn) send(ctx context.Context, unsub bool, names []string) error {
	if sh.sharded && len(names) > 1 {
		// Cluster refuses an SSUBSCRIBE or SUNSUBSCRIBE whose channels span
		// slots (CROSSSLOT), and distinct channels almost never share one:
		// send one per channel. Each is a write; the confirmations come
		// back to the receiver, so this costs no round trips.
		var errs []error
		for _, n := range names {
			errs = append(errs, sh.send(ctx, unsub, []string{n}))
		}
		return errors.Join(errs...)
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	switch {
	case unsub && sh.sharded:
		return sh.ps.SUnsubscribe(ctx, names...)
	case unsub:
		return sh.ps.Unsubscribe(ctx, names...)
	case sh.sharded:
		return sh.ps.SSubscribe(ctx, names...)
	default:
		return sh.ps.Subscribe(ctx, names...)
	}
}
