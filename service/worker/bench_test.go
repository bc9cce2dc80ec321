package worker_test

import (
	"context"
	"slices"
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

// BenchmarkSendToReply: one client sends and waits for its reply, one
// worker replies, through a real gateway (in process) and Redis: send ->
// queue -> worker -> POST /api/v1/reply -> reply push, one at a time.
func BenchmarkSendToReply(b *testing.B) {
	n, rdb := gateway(b, "--command-rate", "0")
	startWorker(b, n, rdb, func(ctx context.Context, m *worker.Message) error {
		return m.Reply(ctx, m.Data)
	})
	c := dialUser(b, n, "bench")
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		if err := c.ws.WriteJSON(map[string]any{"id": i + 10, "op": "send", "topic": "orders", "data": i}); err != nil {
			b.Fatal(err)
		}
		for f := c.next(); string(f["push"]) != `"reply"`; f = c.next() {
			if f["error"] != nil {
				b.Fatalf("send %d: %s", i, f["error"])
			}
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
