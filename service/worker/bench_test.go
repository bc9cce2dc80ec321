package worker_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/streams"
	"github.com/wsgateway/wsgateway/service/worker"
)

// BenchmarkDrainBacklog: one worker handles a backlog of b.N messages of
// 100 users over 16 partitions on a local standalone Redis, with a no-op
// handler: the library's own cost per message (a read and an ack script).
func BenchmarkDrainBacklog(b *testing.B) {
	srv := redistest.Start(b, redistest.Options{})
	rdb := redis.NewClient(&redis.Options{Addr: addr(srv.URL()), PoolSize: 64})
	defer rdb.Close()
	ctx := context.Background()
	if _, err := streams.EnsurePartitions(ctx, rdb, "orders", 16); err != nil {
		b.Fatal(err)
	}
	pipe := rdb.Pipeline()
	for i := range b.N {
		user := "u" + strconv.Itoa(i%100)
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: streams.Part{Group: "orders", N: streams.Partition(user, 16)}.Stream(),
			Values: map[string]any{streams.FieldUser: user, streams.FieldData: strconv.Itoa(i)}})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		b.Fatal(err)
	}
	var done atomic.Int64
	all := make(chan struct{})
	b.ResetTimer()
	start := time.Now()
	wctx, cancel := context.WithCancel(ctx)
	ran := make(chan struct{})
	defer func() { cancel(); <-ran }()
	go func() {
		defer close(ran)
		_ = worker.Run(wctx, worker.Options{Redis: rdb, Topic: "orders"}, func(context.Context, *worker.Message) error {
			if done.Add(1) == int64(b.N) {
				close(all)
			}
			return nil
		})
	}()
	select {
	case <-all:
	case <-time.After(5 * time.Minute):
		b.Fatal("backlog not drained in 5 minutes")
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}
