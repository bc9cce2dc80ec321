package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/client"
	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/worker"
)

// BenchmarkInboxRoundTrip measures send -> worker -> reply push end to end:
// Go clients on a real gateway binary, workers of the Go worker library
// replying through the API, one local redis-server. senders clients (one
// user each, so spread over the partitions) each run SendAndWait in a loop;
// each op is one round trip. It reports the latency's p50 and p99 and the
// round trips per second. Run it short:
//
//	go test ./service/cmd/wsgateway -run '^$' -bench InboxRoundTrip -benchtime 2000x
func BenchmarkInboxRoundTrip(b *testing.B) {
	for _, c := range []struct{ workers, senders int }{{1, 1}, {1, 12}, {3, 12}} {
		b.Run(fmt.Sprintf("workers=%d/senders=%d", c.workers, c.senders), func(b *testing.B) { benchRoundTrip(b, c.workers, c.senders) })
	}
}

func benchRoundTrip(b *testing.B, workers, senders int) {
	srv := redistest.Start(b, redistest.Options{})
	n := startInboxNode(b, srv.URL(), "node-a", "--command-rate", "0")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	b.Cleanup(func() { cancel(); wg.Wait() })
	for w := range workers {
		rdb := redis.NewClient(&redis.Options{Addr: srv.Client().Options().Addr, PoolSize: 32})
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer rdb.Close()
			_ = worker.Run(ctx, worker.Options{Redis: rdb, Topic: "orders", Name: fmt.Sprintf("w%d", w),
				APIURL: n.APIURL(), APIKey: inboxAPIKey},
				func(ctx context.Context, m *worker.Message) error { return m.Reply(ctx, m.Data) })
		}()
	}
	clients := make([]*client.Client, senders)
	for i := range clients {
		tok := sendToken(b, fmt.Sprintf("user-%d", i), "orders")
		clients[i] = client.New(client.Options{URL: n.URL(), Token: func(context.Context) (string, error) { return tok, nil }})
		clients[i].Start(ctx)
		b.Cleanup(func() { clients[i].Close() })
	}
	// Warm up: every client connected, every partition leased, the
	// gateway's worker check passed.
	deadline := time.Now().Add(30 * time.Second)
	for _, c := range clients {
		for {
			wctx, wcancel := context.WithTimeout(ctx, 2*time.Second)
			_, err := c.SendAndWait(wctx, "orders", "warm", client.SendOptions{})
			wcancel()
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("warm-up: %v", err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	lat := make([][]time.Duration, senders)
	b.ResetTimer()
	start := time.Now()
	var run sync.WaitGroup
	for i, c := range clients {
		run.Add(1)
		go func() {
			defer run.Done()
			for k := i; k < b.N; k += senders {
				t0 := time.Now()
				if _, err := c.SendAndWait(ctx, "orders", k, client.SendOptions{}); err != nil {
					b.Error(err)
					return
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		}()
	}
	run.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-us")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-us")
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "roundtrips/s")
}
