package hub

import (
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// sink is a Subscriber whose Deliver costs an append to a shared,
// preallocated slice, so the benchmark measures the hub, not a queue.
type sink struct{ out *[]*Delivery }

func (s *sink) Deliver(d *Delivery) { *s.out = append(*s.out, d) }

// BenchmarkFanout hands one publication to N local subscribers per
// iteration. The per-publication cost is a Delivery and its line; per
// delivery it should allocate nothing.
//
// The "traced" cases run with a real tracer on publications that carry a
// traceparent; the others are tracing off (nil tracer, or no traceparent):
// the allocations per publication must not change there.
func BenchmarkFanout(b *testing.B) {
	traced := sdktrace.NewTracerProvider().Tracer("bench") // spans recorded, not exported
	for _, tc := range []struct {
		name   string
		n      int
		tracer trace.Tracer
		parent string
	}{
		{"subs=1", 1, nil, ""},
		{"subs=100", 100, nil, ""},
		{"subs=5000", 5000, nil, ""},
		{"subs=5000/tracer-on-untraced-publication", 5000, traced, ""},
		{"subs=5000/traced", 5000, traced, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
	} {
		n := tc.n
		b.Run(tc.name, func(b *testing.B) {
			h := New(prometheus.NewRegistry(), tc.tracer)
			out := make([]*Delivery, 0, n)
			for range n {
				h.Subscribe("chat:lobby", &sink{out: &out})
			}
			p := &protocol.Publication{Channel: "chat:lobby", Offset: 123456, Epoch: "e1f3a9",
				Data: []byte(`{"text":"hello, world"}`), User: "alice", Time: time.Now().UnixNano(), TraceParent: tc.parent}
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
	h := New(prometheus.NewRegistry(), nil)
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
