package worker

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/wsgateway/wsgateway/service/streams"
)

// tracer makes the handler's span, continuing the producer's trace from
// the entry's traceparent, so one trace runs from the client's send through
// the handler to its reply.
type tracer struct{ t trace.Tracer }

func newTracer(tp trace.TracerProvider) tracer {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	return tracer{tp.Tracer("github.com/wsgateway/wsgateway/service/worker")}
}

func (tr tracer) start(ctx context.Context, m *Message) (context.Context, func(error)) {
	if tp := m.Fields[streams.FieldTraceparent]; tp != "" {
		ctx = propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{"traceparent": tp})
	}
	ctx, span := tr.t.Start(ctx, "worker "+m.Topic, trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			attribute.String("messaging.system", "wsgateway"),
			attribute.String("messaging.destination.name", m.Topic),
			attribute.String("messaging.message.id", m.ID),
			attribute.Int("wsgateway.attempt", m.Attempt),
		))
	return ctx, func(err error) {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
}
