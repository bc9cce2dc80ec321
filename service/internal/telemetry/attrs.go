package telemetry

import (
	"go.opentelemetry.io/otel/attribute"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// Span attributes, after the OpenTelemetry messaging conventions. Spans
// carry no user data: no user ids, no addresses, no payloads, and only a
// channel's namespace (a full name such as user:alice can be personal).
var (
	System      = attribute.String("messaging.system", "wsgateway")
	OpPublish   = attribute.String("messaging.operation.type", "send")
	OpDeliver   = attribute.String("messaging.operation.type", "process")
	OpSubscribe = attribute.String("messaging.operation.type", "receive")
	WebSocket   = attribute.String("network.protocol.name", "websocket")
)

// Destination is the channel's namespace, as a destination template.
func Destination(channel string) attribute.KeyValue {
	return attribute.String("messaging.destination.template", protocol.Namespace(channel))
}

// Offset is the publication's offset in its channel.
func Offset(off uint64) attribute.KeyValue {
	return attribute.Int64("wsgateway.offset", int64(off))
}

// Subscribers is how many local connections a delivery reached.
func Subscribers(n int) attribute.KeyValue {
	return attribute.Int("messaging.batch.message_count", n)
}

// SpanName is "<operation> <namespace>", as the conventions name spans.
func SpanName(op, channel string) string { return op + " " + protocol.Namespace(channel) }
