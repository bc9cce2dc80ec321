package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/trace"

	"github.com/wsgateway/wsgateway/service/worker"
)

// The API calls' shape: path, API key, JSON body, the caller's trace, and
// the mapping of a 404 to ErrSenderGone.
func TestAPIRequests(t *testing.T) {
	type seen struct {
		Path, Auth, Traceparent string
		Body                    map[string]any
	}
	var got []seen
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(b, &body)
		got = append(got, seen{r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("traceparent"), body})
		w.WriteHeader(status)
		if status == http.StatusNotFound {
			w.Write([]byte(`{"error":{"code":"not_found","message":"sender gone"}}`))
			return
		}
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	api := &worker.API{URL: srv.URL + "/", Key: "k1"}
	tid, _ := trace.TraceIDFromHex("0af7651916cd43dd8448eb211c80319c")
	sid, _ := trace.SpanIDFromHex("b7ad6b7169203331")
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))
	tp := "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

	if err := api.Reply(ctx, "orders/1/1-0", map[string]int{"n": 1}); err != nil {
		t.Fatal(err)
	}
	if err := api.ReplyError(ctx, "orders/1/1-0", "app_out_of_stock", "none left"); err != nil {
		t.Fatal(err)
	}
	if err := api.Publish(ctx, "news", "hi", worker.PublishKey("orders/1/1-0", "news", "")); err != nil {
		t.Fatal(err)
	}
	want := []seen{
		{"/api/v1/reply", "apikey k1", tp, map[string]any{"id": "orders/1/1-0", "data": map[string]any{"n": 1.0}}},
		{"/api/v1/reply", "apikey k1", tp, map[string]any{"id": "orders/1/1-0",
			"error": map[string]any{"code": "app_out_of_stock", "message": "none left"}}},
		{"/api/v1/publish", "apikey k1", tp, map[string]any{"channel": "news", "data": "hi",
			"idempotency_key": worker.PublishKey("orders/1/1-0", "news", "")}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	status = http.StatusNotFound
	if err := api.Reply(ctx, "orders/1/1-0", 1); !errors.Is(err, worker.ErrSenderGone) {
		t.Errorf("Reply on 404 = %v, want ErrSenderGone", err)
	}
	status = http.StatusServiceUnavailable
	if err := api.Publish(ctx, "news", 1, ""); err == nil || errors.Is(err, worker.ErrSenderGone) {
		t.Errorf("Publish on 503 = %v, want an error", err)
	}
}

// Publish keys differ per message, channel and suffix, and fit the API's
// 128-byte limit whatever their length.
func TestPublishKey(t *testing.T) {
	long := string(make([]byte, 500))
	keys := map[string]bool{}
	for _, k := range []string{
		worker.PublishKey("orders/1/1-0", "news", ""),
		worker.PublishKey("orders/1/2-0", "news", ""),
		worker.PublishKey("orders/1/1-0", "user:a", ""),
		worker.PublishKey("orders/1/1-0", "news", "2"),
		worker.PublishKey(long, long, long),
	} {
		if keys[k] || len(k) > 128 {
			t.Errorf("key %q repeated or longer than 128", k)
		}
		keys[k] = true
	}
	// Other languages' workers can publish with the same keys: the
	// derivation is part of the contract.
	if got, want := worker.PublishKey("orders/3/1765010000000-0", "user:alice", ""), "wkr:"+golden; got != want {
		t.Errorf("PublishKey = %q, want %q", got, want)
	}
}

// golden is base64url(SHA-256("orders/3/1765010000000-0\x00user:alice\x00")),
// computed with Python's hashlib.
const golden = "2mZokcFnqVn74DkwijpLdQAF_aJ6FQ_UIbtkCQ8aw_c"
