package main

import (
	"context"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/protocol"
	"github.com/wsgateway/wsgateway/service/streams"
)

// TestInboxSendIsTraced: a traced node records a producer span for a send,
// and the queued entry's traceparent names that span, so the worker's
// handler continues the same trace (docs/streams.md).
func TestInboxSendIsTraced(t *testing.T) {
	recv := startReceiver(t)
	env := map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + recv.addr,
		"OTEL_EXPORTER_OTLP_INSECURE": "true",
		"OTEL_TRACES_SAMPLER":         "parentbased_always_on",
		"OTEL_BSP_SCHEDULE_DELAY":     "50",
	}
	var nodeEnv []string
	for k, v := range env {
		t.Setenv(k, v) // the SDK and exporter read the process environment
		nodeEnv = append(nodeEnv, k+"="+v)
	}
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
