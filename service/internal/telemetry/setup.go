package telemetry

import (
	"context"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// maxQueue bounds the spans waiting for export; beyond it the batcher drops
// spans rather than block a publish or a fan-out.
const maxQueue = 4096

// Setup builds the tracer. Tracing is on only when an OTLP endpoint is
// configured (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_
// ENDPOINT) and not disabled (OTEL_SDK_DISABLED=true, OTEL_TRACES_EXPORTER
// =none); otherwise it returns a nil Tracer, which every package reads as
// "off" and skips all tracing work. Everything else (protocol, headers,
// sampler, service name, resource attributes) comes from the standard
// variables, read by the OpenTelemetry SDK and exporters themselves.
func Setup(ctx context.Context, getenv func(string) string, version, node string) (trace.Tracer, func(context.Context) error, error) {
	if !enabled(getenv) {
		return nil, func(context.Context) error { return nil }, nil
	}
	exp, err := exporter(ctx, getenv)
	if err != nil {
		return nil, nil, fmt.Errorf("tracing: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(
			attribute.String("service.name", "wsgateway"),
			attribute.String("service.version", version),
			attribute.String("service.instance.id", node)),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win
		resource.WithTelemetrySDK())
	if err != nil {
		return nil, nil, fmt.Errorf("tracing resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider( // the sampler comes from OTEL_TRACES_SAMPLER
		sdktrace.WithBatcher(exp, sdktrace.WithMaxQueueSize(maxQueue)),
		sdktrace.WithResource(res))
	return tp.Tracer("github.com/wsgateway/wsgateway", trace.WithInstrumentationVersion(version)), tp.Shutdown, nil
}

func enabled(getenv func(string) string) bool {
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") || getenv("OTEL_TRACES_EXPORTER") == "none" {
		return false
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// exporter picks OTLP over gRPC or HTTP by OTEL_EXPORTER_OTLP_(TRACES_)
// PROTOCOL; the default is grpc, the collectors' usual port 4317.
func exporter(ctx context.Context, getenv func(string) string) (sdktrace.SpanExporter, error) {
	proto := getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if proto == "" {
		proto = getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	switch proto {
	case "", "grpc":
		return otlptracegrpc.New(ctx)
	case "http/protobuf":
		return otlptracehttp.New(ctx)
	}
	return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q: want grpc or http/protobuf", proto)
}
