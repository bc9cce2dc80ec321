package broker

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/protocol"
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
	srv := redistest.Start(b, redistest.Options{})
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

// BenchmarkRedisPublishReplicated publishes on a master with one replica,
// as BenchmarkRedisPublish does, in each durability mode: "fast"
// acknowledges on the master's write (the script reads INFO replication
// for the epoch's lineage), "durable" (MinReplicas 1) adds a WAIT for the
// replica and the commit script that makes the publication visible.
func BenchmarkRedisPublishReplicated(b *testing.B) {
	master := redistest.Start(b, redistest.Options{})
	replica := redistest.Start(b, redistest.Options{Args: []string{"--replicaof", "127.0.0.1", strconv.Itoa(master.Port)}})
	rc := replica.Client()
	poll(b, "replica in sync", func() error {
		info, err := rc.Info(context.Background(), "replication").Result()
		if err != nil || !strings.Contains(info, "master_link_status:up") {
			return fmt.Errorf("replica not in sync: %v", err)
		}
		return nil
	})
	for _, mode := range []struct {
		name        string
		minReplicas int
	}{{"fast", 0}, {"durable", 1}} {
		b.Run(mode.name, func(b *testing.B) {
			h := &countingHandler{}
			r := startRedis(b, master.URL(), protocol.NodeInfo{Node: "bench-" + mode.name}, h, func(o *RedisOptions) {
				o.HistorySize, o.HistoryTTL = 1000, 10*time.Minute
				o.MinReplicas, o.ReplicaTimeout = mode.minReplicas, time.Second
			})
			ch := benchChannel + ":" + mode.name
			if err := r.Subscribe(context.Background(), ch); err != nil {
				b.Fatal(err)
			}
			var n int64
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Publish(context.Background(), ch, benchData, protocol.PublishOptions{}); err != nil {
					b.Fatal(err)
				}
				n++
			}
			h.wait(b, n)
		})
	}
}
