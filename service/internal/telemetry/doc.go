// Package telemetry owns the node's tracing setup and the trace vocabulary
// the other packages share: it builds an OpenTelemetry tracer from the
// standard OTEL_* environment variables (none when no exporter endpoint is
// set), carries a span context across nodes as a W3C traceparent string,
// and adds trace_id and span_id to log records.
package telemetry
