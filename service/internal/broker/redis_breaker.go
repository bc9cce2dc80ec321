package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// Breaker settings. Three failures in a row open the breaker; while open,
// every call fails at once with protocol.ErrUnavailable; after breakerOpen a
// single probe is let through (half-open) and its result decides.
const (
	breakerTrips = 3
	breakerOpen  = 2 * time.Second
	// opTimeout bounds one Redis call, so a hung server counts as a failure
	// quickly instead of holding the caller.
	opTimeout = 500 * time.Millisecond
)

// guard runs every Redis call through the circuit breaker, times it and
// turns connectivity failures into protocol.ErrUnavailable. It is safe for
// concurrent use.
type guard struct {
	cb *gobreaker.CircuitBreaker[struct{}]
	m  *Metrics
}

func newGuard(m *Metrics, log *slog.Logger) *guard {
	return &guard{m: m, cb: gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        "redis",
		MaxRequests: 1,
		Interval:    10 * time.Second,
		Timeout:     breakerOpen,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= breakerTrips },
		IsSuccessful: func(err error) bool {
			return !isOutage(err) || isSlotBusy(err)
		},
		OnStateChange: func(_ string, from, to gobreaker.State) {
			m.BreakerState.Set(float64(to)) // 0 closed, 1 half-open, 2 open, as the metric says
			log.Warn("redis circuit breaker", "from", from.String(), "to", to.String())
		},
	})}
}

// do runs fn for op under the breaker with a per-call timeout.
func (g *guard) do(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	return g.doFor(ctx, op, opTimeout, fn)
}

// doFor is do with a longer timeout, for a call that waits on purpose (a
// publish that waits for replicas).
func (g *guard) doFor(ctx context.Context, op string, timeout time.Duration, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	_, err := g.cb.Execute(func() (struct{}, error) { return struct{}{}, fn(ctx) })
	switch {
	case err == nil || errors.Is(err, redis.Nil):
		g.m.OpDuration.WithLabelValues(op).Observe(time.Since(start).Seconds())
		return err
	case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		g.m.Errors.WithLabelValues(op).Inc()
		return fmt.Errorf("redis %s: circuit open: %w", op, protocol.ErrUnavailable)
	}
	g.m.OpDuration.WithLabelValues(op).Observe(time.Since(start).Seconds())
	g.m.Errors.WithLabelValues(op).Inc()
	if isOutage(err) {
		return fmt.Errorf("redis %s: %v: %w", op, err, protocol.ErrUnavailable)
	}
	return fmt.Errorf("redis %s: %w", op, err)
}

// isOutage tells connectivity trouble (count it, answer unavailable) from a
// reply error such as a script bug (answer internal; Redis itself is fine).
// Redis replies that mean "not now" (loading, failover, cluster down) are
// outages too.
func isOutage(err error) bool {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, context.Canceled) {
		return false
	}
	var re redis.Error
	if errors.As(err, &re) {
		msg := re.Error()
		for _, p := range []string{"LOADING", "READONLY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "NOREPLICAS", "MOVED", "ASK"} {
			if strings.HasPrefix(msg, p) {
				return true
			}
		}
		return false
	}
	return true // network errors, timeouts, a closed pool
}

// isSlotBusy tells Cluster's TRYAGAIN: a call that would create a key in a
// slot being migrated. The caller gets unavailable, but the breaker does not
// count it: one channel's slot moving says nothing about Redis's health, and
// opening the breaker would fail every channel of the node.
//
// MOVED and ASK reach here only from a durable publish, which goes to the
// shard's master directly (see masterFor): the slot is on the move, too.
func isSlotBusy(err error) bool {
	var re redis.Error
	if !errors.As(err, &re) {
		return false
	}
	msg := re.Error()
	return strings.HasPrefix(msg, "TRYAGAIN") || strings.HasPrefix(msg, "MOVED") || strings.HasPrefix(msg, "ASK")
}
