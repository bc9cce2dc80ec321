package broker

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsgateway/wsgateway/service/internal/protocol"
	"github.com/wsgateway/wsgateway/service/internal/testredis"
)

// BenchmarkRedisPublish publishes on one channel of a standalone Redis that
// the same node subscribes to, so each publication is also received,
// decoded and handed to a handler. ns/op is one publish round trip (the
// script); the deliveries run concurrently on the receiver and are waited
// for at the end, so allocs/op counts both sides.
func BenchmarkRedisPublish(b *testing.B) {
	r, h := benchRedis(b)
	ctx := context.Background()
	var n int64
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Publish(ctx, benchChannel, benchData, protocol.PublishOptions{}); err != nil {
			b.Fatal(err)
		}
		n++
	}
	h.wait(b, n)
}

// BenchmarkRedisPublishParallel is BenchmarkRedisPublish from GOMAXPROCS
// publishers at once, still on one channel: the throughput of one channel
// with go-redis pooling the round trips.
func BenchmarkRedisPublishParallel(b *testing.B) {
	r, h := benchRedis(b)
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if _, err := r.Publish(ctx, benchChannel, benchData, protocol.PublishOptions{}); err != nil {
				b.Error(err)
				return
			}
			n.Add(1)
		}
	})
	h.wait(b, n.Load())
}

const benchChannel = "chat:lobby"

var benchData = []byte(`{"text":"hello"}`)

// benchRedis starts a server and a node subscribed to benchChannel.
func benchRedis(b *testing.B) (*redisNode, *countingHandler) {
	srv := testredis.Start(b, testredis.Options{})
	h := &countingHandler{}
	r := startRedis(b, srv.URL(), protocol.NodeInfo{Node: "bench"}, h, func(o *RedisOptions) {
		o.HistorySize, o.HistoryTTL = 1000, 10*time.Minute
	})
	if err := r.Subscribe(context.Background(), benchChannel); err != nil {
		b.Fatal(err)
	}
	return r, h
}

// countingHandler counts deliveries.
type countingHandler struct{ pubs atomic.Int64 }

func (h *countingHandler) HandlePublication(*protocol.Publication) { h.pubs.Add(1) }
func (h *countingHandler) HandleDisconnect(string)                 {}

// wait waits until n publications were delivered.
func (h *countingHandler) wait(b *testing.B, n int64) {
	deadline := time.Now().Add(pollTimeout)
	for h.pubs.Load() < n {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d publications delivered", h.pubs.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}
