package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// otlpReceiver is a real OTLP/gRPC trace endpoint: the collector's own
// protobuf service, keeping every span it is sent, with the node it came from.
type otlpReceiver struct {
	coltrace.UnimplementedTraceServiceServer
	addr  string
	mu    sync.Mutex
	spans []receivedSpan
}

type receivedSpan struct {
	node string
	span *tracepb.Span
}

func startReceiver(t *testing.T) *otlpReceiver {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &otlpReceiver{addr: l.Addr().String()}
	srv := grpc.NewServer()
	coltrace.RegisterTraceServiceServer(srv, r)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return r
}

// env is the environment that makes a node (or, through setEnv, this test
// process's OTel SDK) export every span to r at once.
func (r *otlpReceiver) env() []string {
	return []string{
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://" + r.addr,
		"OTEL_EXPORTER_OTLP_INSECURE=true",
		"OTEL_TRACES_SAMPLER=parentbased_always_on",
		"OTEL_BSP_SCHEDULE_DELAY=50",
	}
}

// setEnv applies r.env to this test process too (the SDK and exporter read
// the process environment), and returns it for the nodes.
func (r *otlpReceiver) setEnv(t *testing.T) []string {
	env := r.env()
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return env
}

func (r *otlpReceiver) Export(_ context.Context, req *coltrace.ExportTraceServiceRequest) (*coltrace.ExportTraceServiceResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range req.ResourceSpans {
		node := ""
		for _, a := range rs.GetResource().GetAttributes() {
			if a.Key == "service.instance.id" {
				node = a.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.ScopeSpans {
			for _, sp := range ss.Spans {
				r.spans = append(r.spans, receivedSpan{node, sp})
			}
		}
	}
	return &coltrace.ExportTraceServiceResponse{}, nil
}

// find waits (bounded) for a span named name from node in trace traceID.
func (r *otlpReceiver) find(t *testing.T, traceID, node, name string) *tracepb.Span {
	t.Helper()
	var found *tracepb.Span
	within(t, 10*time.Second, func() bool { found = r.lookup(traceID, node, name); return found != nil }, func() string {
		return fmt.Sprintf("no span %q from node %s in trace %s; got %d spans", name, node, traceID, r.count())
	})
	return found
}

// lookup returns the span named name from node in trace traceID, or nil.
func (r *otlpReceiver) lookup(traceID, node, name string) *tracepb.Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.spans {
		if s.node == node && s.span.Name == name && hex.EncodeToString(s.span.TraceId) == traceID {
			return s.span
		}
	}
	return nil
}

func (r *otlpReceiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.spans)
}

// TestTraceFollowsAPublicationAcrossNodes: a backend's traced publish on
// node A and its delivery on node B land in one trace, the delivery a
// child of the publish, the publish a child of the backend's span; and a
// client's connect continues the upgrade request's trace.
func TestTraceFollowsAPublicationAcrossNodes(t *testing.T) {
	recv := startReceiver(t)
	nodeEnv := recv.setEnv(t)
	redis := redistest.Start(t, redistest.Options{})
	a := startNodeEnv(t, nodeEnv, "--dev", "--redis-url", redis.URL(), "--node-id", "a")
	b := startNodeEnv(t, nodeEnv, "--dev", "--redis-url", redis.URL(), "--node-id", "b")

	const traceID, backendSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	traceparent := "00-" + traceID + "-" + backendSpan + "-01"
	sub := dial(t, b, http.Header{"Traceparent": {"00-" + traceID + "-1111111111111111-01"}})
	sub.result(sub.call(protocol.Command{Op: protocol.OpConnect}))
	sub.result(sub.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "orders:eu"}))

	req, _ := http.NewRequest("POST", "http://"+a.API+"/api/v1/publish", strings.NewReader(`{"channel":"orders:eu","data":{"n":1}}`))
	req.Header.Set("Traceparent", traceparent)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("publish: %v %v", err, resp)
	}
	resp.Body.Close()
	if p := sub.next(); p.Push != protocol.PushPub {
		t.Fatalf("push %s", show(p))
	}

	pub := recv.find(t, traceID, "a", "publish orders")
	if got := hex.EncodeToString(pub.ParentSpanId); got != backendSpan {
		t.Fatalf("publish span's parent %s, want the backend's %s", got, backendSpan)
	}
	del := recv.find(t, traceID, "b", "deliver orders")
	if !equalBytes(del.ParentSpanId, pub.SpanId) {
		t.Fatalf("delivery span on b is not a child of the publish span on a")
	}
	conn := recv.find(t, traceID, "b", "connect")
	if got := hex.EncodeToString(conn.ParentSpanId); got != "1111111111111111" {
		t.Fatalf("connect span's parent %s, want the upgrade request's", got)
	}
	for _, s := range []*tracepb.Span{pub, del, conn} {
		for _, kv := range s.Attributes {
			if v := kv.GetValue().GetStringValue(); strings.Contains(v, "orders:eu") || strings.Contains(v, "127.0.0.1") {
				t.Fatalf("span %q carries user data: %s=%s", s.Name, kv.Key, v)
			}
		}
	}
}

func equalBytes(a, b []byte) bool { return hex.EncodeToString(a) == hex.EncodeToString(b) }
