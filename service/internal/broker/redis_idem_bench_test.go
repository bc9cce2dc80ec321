package broker

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// BenchmarkRedisPublishScript measures what the publish script costs Redis
// itself, on a channel whose idempotency keys are at their cap (every
// publish records one, evicting the oldest), by Redis's own account:
// redis-µs/op is EVALSHA's usec_per_call, and keys is what the channel
// holds in Redis at the end.
func BenchmarkRedisPublishScript(b *testing.B) {
	srv := redistest.Start(b, redistest.Options{})
	admin := srv.Client()
	r := startRedis(b, srv.URL(), protocol.NodeInfo{Node: "bench"}, nopHandler{}, func(o *RedisOptions) {
		o.HistorySize, o.HistoryTTL = 1000, 10*time.Minute
	})
	ctx := context.Background()
	for i := range idempotencyCap(1000) + 1 {
		if _, err := r.Publish(ctx, benchChannel, benchData, protocol.PublishOptions{IdempotencyKey: fmt.Sprint("fill-", i)}); err != nil {
			b.Fatal(err)
		}
	}
	if err := admin.ConfigResetStat(ctx).Err(); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		i++
		if _, err := r.Publish(ctx, benchChannel, benchData, protocol.PublishOptions{IdempotencyKey: strconv.Itoa(i)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(evalshaMicros(b, admin.Info(ctx, "commandstats").Val()), "redis-µs/op")
	b.ReportMetric(float64(len(admin.Keys(ctx, "wsg:{"+benchChannel+"}*").Val())), "keys")
}

// evalshaMicros reads EVALSHA's usec_per_call from INFO commandstats.
func evalshaMicros(b *testing.B, info string) float64 {
	for _, line := range strings.Split(info, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_evalsha:"); ok {
			for _, f := range strings.Split(rest, ",") {
				if v, ok := strings.CutPrefix(f, "usec_per_call="); ok {
					us, err := strconv.ParseFloat(v, 64)
					if err != nil {
						b.Fatal(err)
					}
					return us
				}
			}
		}
	}
	b.Fatalf("no EVALSHA in INFO commandstats:\n%s", info)
	return 0
}
