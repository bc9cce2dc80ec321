package hub

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wsgateway/wsgateway/service/internal/protocol"
)

// sink is a Subscriber whose Deliver costs an append to a shared,
// preallocated slice, so the benchmark measures the hub, not a queue.
type sink struct{ out *[]*Delivery }

func (s *sink) Deliver(d *Delivery) { *s.out = append(*s.out, d) }

// BenchmarkFanout hands one publication to N local subscribers per
// iteration. The per-publication cost is a Delivery and its line; per
// delivery it should allocate nothing.
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{1, 100, 5000} {
		b.Run(fmt.Sprintf("subs=%d", n), func(b *testing.B) {
			h := New(prometheus.NewRegistry())
			out := make([]*Delivery, 0, n)
			for range n {
				h.Subscribe("chat:lobby", &sink{out: &out})
			}
			p := &protocol.Publication{Channel: "chat:lobby", Offset: 123456, Epoch: "e1f3a9",
				Data: []byte(`{"text":"hello, world"}`), User: "alice", Time: time.Now().UnixNano()}
			b.ReportAllocs()
			allocs := mallocs()
			for b.Loop() {
				out = out[:0]
				h.HandlePublication(p)
			}
			allocs = mallocs() - allocs
			if len(out) != n {
				b.Fatalf("last publication reached %d subscribers, want %d", len(out), n)
			}
			deliveries := float64(n) * float64(b.N)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/deliveries, "ns/delivery")
			b.ReportMetric(float64(allocs)/deliveries, "allocs/delivery")
		})
	}
}

func BenchmarkHandlePublicationNoSubscribers(b *testing.B) {
	h := New(prometheus.NewRegistry())
	h.Subscribe("chat:other", &sink{out: new([]*Delivery)})
	p := &protocol.Publication{Channel: "chat:lobby", Offset: 1, Epoch: "E", Data: []byte(`1`)}
	b.ReportAllocs()
	for b.Loop() {
		h.HandlePublication(p)
	}
}

// mallocs returns the process's cumulative heap allocation count.
func mallocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}
