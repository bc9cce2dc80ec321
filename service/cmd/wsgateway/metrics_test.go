package main

// End-to-end tests of the operator port (contract section 4): the metrics
// every node exposes from startup, that traffic moves them, and health.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	dto "github.com/prometheus/client_model/go"

	"github.com/wsgateway/wsgateway/service/gatewaytest"
	"github.com/wsgateway/wsgateway/service/protocol"
)

func TestMetricsAtStartup(t *testing.T) {
	g := startNode(t, "--dev")
	fams := g.Metrics(t)
	closeCodes := []string{"1000", "1001", "1003", "1008", "1009", "1011", "1012", "1013",
		"4001", "4003", "4008", "4009", "4029"}
	for _, tc := range []struct {
		name  string
		typ   dto.MetricType
		label string   // the only label of every series; "": unlabelled
		known []string // label values that must be there (at zero)
	}{
		{"connections", dto.MetricType_GAUGE, "", nil},
		{"connects_total", dto.MetricType_COUNTER, "result", []string{"ok"}},
		{"disconnects_total", dto.MetricType_COUNTER, "code", closeCodes},
		{"subscriptions", dto.MetricType_GAUGE, "", nil},
		{"messages_received_total", dto.MetricType_COUNTER, "op",
			[]string{"connect", "subscribe", "unsubscribe", "publish", "presence", "history", "ping", "refresh"}},
		{"messages_sent_total", dto.MetricType_COUNTER, "kind", []string{"pub", "unsub"}},
		{"publish_latency_seconds", dto.MetricType_HISTOGRAM, "", nil},
		{"delivery_lag_seconds", dto.MetricType_HISTOGRAM, "", nil},
		{"send_queue_dropped_total", dto.MetricType_COUNTER, "", nil},
		{"slow_consumer_disconnects_total", dto.MetricType_COUNTER, "", nil},
		{"redis_breaker_state", dto.MetricType_GAUGE, "", nil},
		{"redis_errors_total", dto.MetricType_COUNTER, "op", nil},
		{"redis_op_duration_seconds", dto.MetricType_HISTOGRAM, "op", nil},
		{"recoveries_total", dto.MetricType_COUNTER, "result", nil},
		{"draining", dto.MetricType_GAUGE, "", nil},
		{"history_evictions_total", dto.MetricType_COUNTER, "", nil},
		{"broker_channels", dto.MetricType_GAUGE, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := "wsgateway_" + tc.name
			f := fams[name]
			if f == nil {
				t.Fatalf("%s is not exposed", name)
			}
			if f.GetType() != tc.typ {
				t.Errorf("%s is a %v, want a %v", name, f.GetType(), tc.typ)
			}
			if len(f.GetMetric()) == 0 {
				t.Fatalf("%s has no series", name)
			}
			var values []string
			for _, m := range f.GetMetric() {
				var labels []string
				for _, lp := range m.GetLabel() {
					labels = append(labels, lp.GetName())
					values = append(values, lp.GetValue())
				}
				if want := []string{tc.label}; tc.label == "" && len(labels) != 0 || tc.label != "" && !slices.Equal(labels, want) {
					t.Errorf("%s series with labels %v, want only %q", name, labels, tc.label)
				}
				if v := gatewaytest.SampleValue(m); v != 0 {
					t.Errorf("%s%v = %v at startup, want 0", name, m.GetLabel(), v)
				}
			}
			for _, v := range tc.known {
				if !slices.Contains(values, v) {
					t.Errorf("%s{%s=%q} is missing", name, tc.label, v)
				}
			}
		})
	}
	for _, prefix := range []string{"go_", "process_"} {
		if !slices.ContainsFunc(mapsKeys(fams), func(n string) bool { return strings.HasPrefix(n, prefix) }) {
			t.Errorf("no %s* metric: the collector is missing", prefix)
		}
	}
}

func mapsKeys(fams map[string]*dto.MetricFamily) []string {
	out := make([]string, 0, len(fams))
	for k := range fams {
		out = append(out, k)
	}
	return out
}

func TestMetricsMoveWithTraffic(t *testing.T) {
	g := startNode(t, "--dev")
	sub := connected(t, g, "")
	sub.result(sub.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "chat:m"}))
	pub := connected(t, g, "")
	for n := 1; n <= 3; n++ {
		pub.result(pub.call(protocol.Command{Op: protocol.OpPublish, Channel: "chat:m", Data: json.RawMessage(fmt.Sprint(n))}))
	}
	for n := 1; n <= 3; n++ {
		if p := sub.next(); p.Offset != uint64(n) {
			t.Fatalf("want push offset %d, got %s", n, show(p))
		}
	}
	wantMetrics(t, g, map[string]float64{
		"connections":                          2,
		"connects_total result=ok":             2,
		"subscriptions":                        1,
		"messages_received_total op=connect":   2,
		"messages_received_total op=subscribe": 1,
		"messages_received_total op=publish":   3,
		"messages_sent_total kind=pub":         3,
		"publish_latency_seconds":              3,
		"delivery_lag_seconds":                 3,
		"disconnects_total code=1000":          0,
		"send_queue_dropped_total":             0,
		"slow_consumer_disconnects_total":      0,
		"draining":                             0,
		"redis_breaker_state":                  0,
	})

	_ = sub.c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	sub.closed(5 * time.Second)
	wantMetrics(t, g, map[string]float64{
		"connections":                 1,
		"subscriptions":               0,
		"disconnects_total code=1000": 1,
	})
}

func TestHealthAndReadiness(t *testing.T) {
	g := startNode(t, "--dev")
	for _, path := range []string{"/healthz", "/readyz"} {
		t.Run(path, func(t *testing.T) {
			if code, body := httpGet(t, "http://"+g.Admin+path); code != http.StatusOK {
				t.Errorf("status %d (%q), want 200", code, body)
			}
		})
	}
	if code, _ := httpGet(t, fmt.Sprintf("http://%s/nope", g.Admin)); code != http.StatusNotFound {
		t.Errorf("unknown admin path: status %d, want 404", code)
	}
}
