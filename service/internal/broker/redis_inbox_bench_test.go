package broker

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// BenchmarkRedisInboxSend is one send's cost on a local redis-server: the
// enqueue script (dedup check, length check, XADD, two SETs) in one round
// trip, the worker check cached. Run it short:
//
//	go test ./service/internal/broker -run '^$' -bench RedisInboxSend -benchtime 5000x
func BenchmarkRedisInboxSend(b *testing.B) {
	srv := redistest.Start(b, redistest.Options{})
	n := startInbox(b, srv.URL(), "node-a", func(o *InboxOptions) { o.MaxLen = 1 << 30 })
	heartbeat(b, srv.Client(), "orders")
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		m := protocol.InboxMessage{Topic: "orders", User: "u" + strconv.Itoa(i%1000), Client: "c1",
			Key: "k" + strconv.Itoa(i), Data: []byte(`{"sku":"A1","qty":2}`)}
		if _, err := n.Send(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRedisInboxSendParallel is the same with 32 senders at once: the
// inbox's throughput on one Redis core (Redis runs the scripts one at a
// time), shared here with the benchmark's own CPU.
func BenchmarkRedisInboxSendParallel(b *testing.B) {
	srv := redistest.Start(b, redistest.Options{})
	n := startInbox(b, srv.URL(), "node-a", func(o *InboxOptions) { o.MaxLen = 1 << 30 })
	heartbeat(b, srv.Client(), "orders")
	ctx := context.Background()
	var seq atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1)
			m := protocol.InboxMessage{Topic: "orders", User: "u" + strconv.FormatInt(i%1000, 10), Client: "c1",
				Key: "k" + strconv.FormatInt(i, 10), Data: []byte(`{"sku":"A1","qty":2}`)}
			if _, err := n.Send(ctx, m); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
