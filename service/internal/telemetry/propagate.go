package telemetry

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// w3c is the W3C trace context format: what Istio's Envoy forwards, and what
// a publication carries through the broker.
var w3c = propagation.TraceContext{}

// FromHeaders returns ctx with the remote span context of an incoming
// request's traceparent header, if any.
func FromHeaders(ctx context.Context, h http.Header) context.Context {
	return w3c.Extract(ctx, propagation.HeaderCarrier(h))
}

// TraceParent returns the traceparent of ctx's span when it is sampled, and
// "" otherwise: an unsampled publish carries nothing, so no node spends
// work on its delivery spans.
func TraceParent(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsSampled() {
		return ""
	}
	c := propagation.MapCarrier{}
	w3c.Inject(ctx, c)
	return c["traceparent"]
}

// FromTraceParent returns ctx with the remote span context in tp.
func FromTraceParent(ctx context.Context, tp string) context.Context {
	return w3c.Extract(ctx, propagation.MapCarrier{"traceparent": tp})
}
