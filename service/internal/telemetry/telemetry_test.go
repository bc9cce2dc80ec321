package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func TestSetupOffWithoutEndpoint(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		on   bool
	}{
		{"nothing set", nil, false},
		{"endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"}, true},
		{"traces endpoint", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4317"}, true},
		{"sdk disabled", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "x", "OTEL_SDK_DISABLED": "true"}, false},
		{"exporter none", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "x", "OTEL_TRACES_EXPORTER": "none"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, shutdown, err := Setup(context.Background(), func(k string) string { return tc.env[k] }, "v", "n")
			if err != nil {
				t.Fatal(err)
			}
			defer shutdown(context.Background())
			if (tr != nil) != tc.on {
				t.Fatalf("tracer on = %v, want %v", tr != nil, tc.on)
			}
		})
	}
}

func TestSetupRejectsUnknownProtocol(t *testing.T) {
	env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "x", "OTEL_EXPORTER_OTLP_PROTOCOL": "carrier-pigeon"}
	if _, _, err := Setup(context.Background(), func(k string) string { return env[k] }, "v", "n"); err == nil {
		t.Fatal("want an error for an unknown protocol")
	}
}

func TestTraceParentRoundTrip(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("t").Start(context.Background(), "s")
	defer span.End()
	s := TraceParent(ctx)
	if s == "" {
		t.Fatal("no traceparent for a sampled span")
	}
	back := FromTraceParent(context.Background(), s)
	_, child := tp.Tracer("t").Start(back, "child")
	if child.SpanContext().TraceID() != span.SpanContext().TraceID() {
		t.Fatal("a span started from the traceparent is not in the same trace")
	}
	unsampled := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	ctx2, s2 := unsampled.Tracer("t").Start(context.Background(), "s")
	defer s2.End()
	if got := TraceParent(ctx2); got != "" {
		t.Fatalf("unsampled span carried %q", got)
	}
}

func TestLogHandlerAddsTraceIDs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil))).With("k", "v")
	log.InfoContext(context.Background(), "no span")
	ctx, span := sdktrace.NewTracerProvider().Tracer("t").Start(context.Background(), "s")
	log.InfoContext(ctx, "in span")
	span.End()
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	var first, second map[string]any
	if err := json.Unmarshal(lines[0], &first); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(lines[1], &second); err != nil {
		t.Fatal(err)
	}
	if _, ok := first["trace_id"]; ok {
		t.Fatal("trace_id on a record without a span")
	}
	if second["trace_id"] != span.SpanContext().TraceID().String() || second["span_id"] != span.SpanContext().SpanID().String() || second["k"] != "v" {
		t.Fatalf("record %v lacks the span's ids or the logger's attrs", second)
	}
}
