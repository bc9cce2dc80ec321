package hooks

import (
	"context"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// TestCallBodies checks each hook's body field by field: the common ones,
// the hook's own, null where absent.
func TestCallBodies(t *testing.T) {
	common := func(hook string, extra map[string]any) map[string]any {
		m := map[string]any{"hook": hook, "client": "c1", "node": "n1", "zone": "z1", "user": "alice", "meta": map[string]any{"tier": "gold"}}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name string
		hook string
		req  Request
		want map[string]any
	}{
		{"connect", HookConnect, request(HookConnect),
			common("connect", map[string]any{"headers": map[string]any{"Cookie": "sid=1"}, "claims": map[string]any{"sub": "alice"}})},
		{"connect by cookie, before any user", HookConnect, Request{Client: "c2"},
			map[string]any{"hook": "connect", "client": "c2", "node": "n1", "zone": "z1", "user": nil, "meta": nil, "headers": map[string]any{}, "claims": nil}},
		{"subscribe", HookSubscribe, request(HookSubscribe), common("subscribe", map[string]any{"channel": "chat:room", "data": nil})},
		{"publish", HookPublish, request(HookPublish),
			common("publish", map[string]any{"channel": "chat:room", "data": map[string]any{"text": "hi"}, "idempotency_key": "k1"})},
		{"publish without a client key", HookPublish, Request{Client: "c1", User: "alice", Channel: "chat:a", Data: []byte(`1`)},
			map[string]any{"hook": "publish", "client": "c1", "node": "n1", "zone": "z1", "user": "alice", "meta": nil,
				"channel": "chat:a", "data": 1.0, "idempotency_key": nil}},
		{"rpc", HookRPC, request(HookRPC), common("rpc", map[string]any{"method": "billing:charge", "data": map[string]any{"amount": 3.0}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBackend(t, answer(`{"result":{}}`))
			f := newFixture(t, b.URL, allHooksConfig("reject", "token_then_hook"), Deps{Node: "n1", Zone: "z1"})
			f.route(tt.hook).Call(bg, tt.req)
			s := b.seen()
			if len(s) != 1 {
				t.Fatalf("backend saw %d requests, want 1", len(s))
			}
			if diff := cmp.Diff(tt.want, s[0].Body); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			if ct := s[0].Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}

func TestIdempotencyKey(t *testing.T) {
	b := newBackend(t, answer(`{"result":{}}`))
	f := newFixture(t, b.URL, allHooksConfig("reject", "token_then_hook"), Deps{})
	r := f.route(HookPublish)
	req := request(HookPublish)
	req.Key = "user-alice-chat:room-k1"
	r.Call(bg, req)
	r.Call(bg, req)
	r.Call(bg, request(HookPublish)) // no key: a random one
	r.Call(bg, request(HookPublish))
	s := b.seen()
	if a, b := s[0].Header.Get("Idempotency-Key"), s[1].Header.Get("Idempotency-Key"); a != req.Key || b != req.Key {
		t.Errorf("Idempotency-Key %q, %q; want the given %q on both", a, b, req.Key)
	}
	gen := regexp.MustCompile(`^[0-9a-f]{32}$`)
	k3, k4 := s[2].Header.Get("Idempotency-Key"), s[3].Header.Get("Idempotency-Key")
	if !gen.MatchString(k3) || !gen.MatchString(k4) || k3 == k4 {
		t.Errorf("generated keys %q, %q: want two different 128-bit hex keys", k3, k4)
	}
}

func TestTracing(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	tracer := tp.Tracer("test")

	b := newBackend(t, answer(`{"error":{"code":"app_no","message":""}}`))
	f := newFixture(t, b.URL, allHooksConfig("reject", "token_then_hook"), Deps{Tracer: tracer})
	ctx, parent := tracer.Start(bg, "publish chat")
	f.route(HookPublish).Call(ctx, request(HookPublish))
	parent.End()

	var hook sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == "hook publish" {
			hook = s
		}
	}
	if hook == nil {
		t.Fatalf("no span %q among %d", "hook publish", len(rec.Ended()))
	}
	if hook.SpanKind() != trace.SpanKindClient || hook.Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("span kind %v parent %v: want a client span under the command's", hook.SpanKind(), hook.Parent().SpanID())
	}
	attrs := map[attribute.Key]string{}
	for _, a := range hook.Attributes() {
		attrs[a.Key] = a.Value.String()
	}
	want := map[attribute.Key]string{"wsgateway.hook": "publish", "wsgateway.hook.endpoint": "app", "wsgateway.hook.result": "error", "http.response.status_code": "200"}
	if diff := cmp.Diff(want, attrs); diff != "" {
		t.Errorf("attributes (-want +got):\n%s", diff)
	}
	wantTP := "00-" + hook.SpanContext().TraceID().String() + "-" + hook.SpanContext().SpanID().String() + "-01"
	if got := b.seen()[0].Header.Get("Traceparent"); got != wantTP {
		t.Errorf("traceparent %q, want the hook span's %q", got, wantTP)
	}

	f.route(HookPublish).Call(bg, request(HookPublish)) // untraced
	if got, ok := b.seen()[1].Header["Traceparent"]; ok {
		t.Errorf("untraced call sent traceparent %q", got)
	}
}
