package worker_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/wsgateway/wsgateway/service/streams"
	"github.com/wsgateway/wsgateway/service/worker"
)

// The handler's span continues the producer's trace from the entry's
// traceparent, and the handler's ctx carries it.
func TestHandlerSpanContinuesProducerTrace(t *testing.T) {
	rdb := backends()[0].newClient(t)
	ctx := context.Background()
	if _, err := streams.EnsurePartitions(ctx, rdb, "orders", 1); err != nil {
		t.Fatal(err)
	}
	rdb.XAdd(ctx, &redis.XAddArgs{Stream: streams.Part{Group: "orders"}.Stream(), Values: map[string]any{
		streams.FieldUser: "u", streams.FieldData: "1",
		streams.FieldTraceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
	}})
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	inHandler := make(chan trace.SpanContext, 1)
	stop := runAsync(func(ctx context.Context) error {
		return worker.Run(ctx, worker.Options{Redis: rdb, Topic: "orders", TracerProvider: tp},
			func(ctx context.Context, m *worker.Message) error {
				inHandler <- trace.SpanContextFromContext(ctx)
				return nil
			})
	})
	defer stop()
	var sc trace.SpanContext
	select {
	case sc = <-inHandler:
	case <-time.After(20 * time.Second):
		t.Fatal("no message")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if sc.TraceID().String() != "0af7651916cd43dd8448eb211c80319c" {
		t.Fatalf("handler's trace %s, want the producer's", sc.TraceID())
	}
	spans := rec.Ended()
	if len(spans) != 1 || spans[0].Parent().SpanID().String() != "b7ad6b7169203331" || spans[0].SpanContext().SpanID() != sc.SpanID() {
		t.Fatalf("spans %v: want one, child of the producer's span b7ad6b7169203331, the handler's", spans)
	}
}
