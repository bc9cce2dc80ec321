package main

import (
	"context"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/wsgateway/wsgateway/service/gatewaytest"
	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/protocol"
	"github.com/wsgateway/wsgateway/service/streams"
	"github.com/wsgateway/wsgateway/service/worker"
)

// TestInboxSendIsTraced: a traced node records a producer span for a send,
// and the queued entry's traceparent names that span, so the worker's
// handler continues the same trace (docs/streams.md).
func TestInboxSendIsTraced(t *testing.T) {
	recv := startReceiver(t)
	nodeEnv := recv.setEnv(t)
	srv := redistest.Start(t, redistest.Options{})
	rdb := srv.Client()
	n := startNodeEnv(t, nodeEnv, "--dev", "--redis-url", srv.URL(), "--node-id", "a")
	workerAlive(t, rdb, "orders")
	c := connected(t, n, "")
	sent := resultOf[protocol.SendResult](t, c.call(sendCmd("orders", `{"n":1}`, "")))

	_, part, entry, err := streams.ParseID(sent.ID)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := rdb.XRange(context.Background(), streams.Part{Group: "orders", N: part}.Stream(), entry, entry).Result()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("entry: %v %v", msgs, err)
	}
	tp, _ := msgs[0].Values["traceparent"].(string)
	f := strings.Split(tp, "-")
	if len(f) != 4 || f[0] != "00" {
		t.Fatalf("traceparent %q is not W3C", tp)
	}
	span := recv.find(t, f[1], "a", "send orders")
	if got := hex.EncodeToString(span.SpanId); got != f[2] {
		t.Errorf("the entry's traceparent names span %s, the send span is %s", f[2], got)
	}
	if span.Kind.String() != "SPAN_KIND_PRODUCER" {
		t.Errorf("send span kind %s, want producer", span.Kind)
	}
}

// TestInboxTraceFromSendToReplyPush: one trace runs from a client's send on
// node a through a worker's handler (service/worker, exporting its spans to
// the same receiver) and its reply posted to node b's API, to the reply
// push delivered on node a: the send span (a), the handler span (worker, a
// child of the send span), the API's reply span (b, a child of the
// handler's span, whose Reply call carried the traceparent) and the reply
// delivery span (a, a child of the reply span), all with one trace id.
func TestInboxTraceFromSendToReplyPush(t *testing.T) {
	recv := startReceiver(t)
	env := recv.env()
	srv := redistest.Start(t, redistest.Options{})
	rdb := srv.Client()
	start := func(id string) *gw {
		return gatewaytest.Start(t, gatewaytest.Options{Env: env, Args: []string{
			"--node-id", id, "--redis-url", srv.URL(), "--jwt-secret", testSecret, "--api-key", inboxAPIKey,
			"--inbox-partitions", "2", "--drain-delay", "0s", "--drain-window", "0s"}})
	}
	a, b := start("a"), start("b")

	handled := make(chan string, 1) // the traceparent the handler's ctx carries
	stopWorker := runTracedWorker(t, recv.addr, worker.Options{Redis: rdb, Topic: "orders", Name: "w1",
		APIURL: b.APIURL(), APIKey: inboxAPIKey},
		func(ctx context.Context, m *worker.Message) error {
			sc := trace.SpanContextFromContext(ctx)
			handled <- sc.TraceID().String() + "-" + sc.SpanID().String()
			return m.Reply(ctx, map[string]string{"status": "accepted"})
		})
	defer stopWorker()
	within(t, 20*time.Second, func() bool {
		n, _ := rdb.ZCard(context.Background(), streams.WorkersKey("orders")).Result()
		return n > 0
	}, func() string { return "the worker never wrote its heartbeat" })

	alice := connected(t, a, sendToken(t, "alice", "orders"))
	sent := resultOf[protocol.SendResult](t, alice.call(sendCmd("orders", `{"n":1}`, "")))
	want := `{"push":"reply","id":"` + sent.ID + `","data":{"status":"accepted"}}`
	if push := string(alice.nextRaw(20 * time.Second)); push != want {
		t.Fatalf("push %s, want %s", push, want)
	}
	var inHandler string
	select {
	case inHandler = <-handled:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler never ran")
	}

	traceID, _, _ := strings.Cut(inHandler, "-")
	send := recv.find(t, traceID, "a", "send orders")
	handler := recv.find(t, traceID, "worker", "worker orders")
	if !equalBytes(handler.ParentSpanId, send.SpanId) {
		t.Errorf("the handler span's parent is %x, want the send span %x", handler.ParentSpanId, send.SpanId)
	}
	if got := traceID + "-" + hex.EncodeToString(handler.SpanId); got != inHandler {
		t.Errorf("the handler's ctx carries %s, the handler span is %s", inHandler, got)
	}
	reply := recv.find(t, traceID, "b", "reply orders")
	if !equalBytes(reply.ParentSpanId, handler.SpanId) {
		t.Errorf("the API reply span's parent is %x, want the handler span %x", reply.ParentSpanId, handler.SpanId)
	}
	deliver := recv.find(t, traceID, "a", "deliver reply orders")
	if !equalBytes(deliver.ParentSpanId, reply.SpanId) {
		t.Errorf("the reply delivery span's parent is %x, want the API reply span %x", deliver.ParentSpanId, reply.SpanId)
	}
	for _, s := range []*tracepb.Span{send, handler, reply, deliver} {
		for _, kv := range s.Attributes {
			if v := kv.GetValue().GetStringValue(); strings.Contains(v, "alice") || strings.Contains(v, "accepted") {
				t.Errorf("span %q carries user data: %s=%s", s.Name, kv.Key, v)
			}
		}
	}
}

// runTracedWorker runs worker.Run with h in the background, its spans
// exported synchronously over OTLP/gRPC to addr as service.instance.id
// "worker". The returned stop ends the worker and waits for it.
func runTracedWorker(t *testing.T, addr string, opts worker.Options, h worker.Handler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(addr), otlptracegrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.instance.id", "worker"))))
	opts.TracerProvider = tp
	done := make(chan error, 1)
	go func() { done <- worker.Run(ctx, opts, h) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("worker: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Error("the worker did not stop within 30 s")
			}
			_ = tp.Shutdown(context.Background())
		})
	}
	t.Cleanup(stop)
	return stop
}
