package broker

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// replyError is a Redis error reply as go-redis returns it.
type replyError string

func (e replyError) Error() string { return string(e) }
func (replyError) RedisError()     {}

var _ redis.Error = replyError("")

// TestBreakerCountsOutagesOnly: connectivity failures and "not now" replies
// open the breaker after breakerTrips in a row; TRYAGAIN (a slot being
// migrated) and script errors reach the caller without opening it.
func TestBreakerCountsOutagesOnly(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		opens   bool
		unavail bool // the caller sees protocol.ErrUnavailable
	}{
		{"network", errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), true, true},
		{"loading", replyError("LOADING Redis is loading the dataset in memory"), true, true},
		{"cluster down", replyError("CLUSTERDOWN The cluster is down"), true, true},
		{"slot migrating", replyError("TRYAGAIN Multiple keys request during rehashing of slot"), false, true},
		{"script error", replyError("ERR user_script:1: bad argument"), false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newGuard(NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
			for i := range breakerTrips {
				err := g.do(context.Background(), "publish", func(context.Context) error { return tc.err })
				if errors.Is(err, protocol.ErrUnavailable) != tc.unavail {
					t.Fatalf("call %d: %v; unavailable %v, want %v", i, err, !tc.unavail, tc.unavail)
				}
			}
			called := false
			err := g.do(context.Background(), "publish", func(context.Context) error { called = true; return nil })
			if open := !called; open != tc.opens {
				t.Fatalf("after %d failures the breaker is open: %v, want %v (last call: %v)", breakerTrips, open, tc.opens, err)
			}
		})
	}
}
