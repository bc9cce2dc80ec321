package session

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/wsgateway/wsgateway/service/internal/telemetry"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// startConnectSpan opens the connect span at the upgrade, as a child of the
// upgrade request's trace (Istio's Envoy forwards one) when it has one.
func (s *Session) startConnectSpan() {
	if s.mgr.cfg.Tracer == nil {
		return
	}
	parent := s.info.Trace
	if parent == nil {
		parent = context.Background()
	}
	_, s.connectSpan = s.mgr.cfg.Tracer.Start(parent, "connect",
		trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(telemetry.System, telemetry.WebSocket))
}

// endConnectSpan ends the connect span with its outcome (ok, unauthorized,
// or closed before connect).
func (s *Session) endConnectSpan(result string) {
	if s.connectSpan == nil {
		return
	}
	s.connectSpan.SetAttributes(attribute.String("wsgateway.connect.result", result))
	if result != ConnectOK {
		s.connectSpan.SetStatus(codes.Error, result)
	}
	s.connectSpan.End()
	s.connectSpan = nil
}

// startSpan opens a command's span, a root of its own: a connection lives
// for hours, so its commands are not children of its connect span.
func (s *Session) startSpan(ctx context.Context, op string, kind trace.SpanKind, cmd *protocol.Command, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return s.startSpanOn(ctx, op, kind, cmd.Channel, attrs...)
}

// startSpanOn opens a command's span on a name: a channel, or an rpc
// method (named like one).
func (s *Session) startSpanOn(ctx context.Context, op string, kind trace.SpanKind, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	if s.mgr.cfg.Tracer == nil {
		return ctx, nil
	}
	attrs = append(attrs, telemetry.System, telemetry.Destination(name))
	return s.mgr.cfg.Tracer.Start(ctx, telemetry.SpanName(op, name),
		trace.WithSpanKind(kind), trace.WithAttributes(attrs...))
}

// endSpan ends span (nil when tracing is off), marking a failure.
func endSpan(span trace.Span, err error, attrs ...attribute.KeyValue) {
	if span == nil {
		return
	}
	span.SetAttributes(attrs...)
	if err != nil {
		span.SetStatus(codes.Error, protocol.AsError(err).Code)
	}
	span.End()
}
