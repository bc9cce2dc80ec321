package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/wsgateway/wsgateway/service/gatewaytest"
)

// TestInboxSuite runs -suite inbox small, against a real gateway, a real
// redis-server and the Go worker library: every round trip that the
// senders started came back as a reply push (no error, no lost reply), the
// Redis CPU was read, and after a storm of 200 clients every event the node
// emitted reached the webhook receiver and the backlog is zero. Counts, not
// timing.
func TestInboxSuite(t *testing.T) {
	gatewaytest.Binary(t, gatewaytest.BuildOptions{}) // skips under -short
	const clients = 200
	var stdout, stderr bytes.Buffer
	args := []string{"-suite", "inbox", "-conns", "200", "-warmup", "500ms", "-duration", "1s", "-timeout", "90s"}
	if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("run %v: exit %d\nstdout: %s\nstderr: %s", args, code, stdout.String(), stderr.String())
	}
	var lines []map[string]any
	for line := range strings.Lines(stdout.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line is not JSON: %v: %s", err, line)
		}
		lines = append(lines, m)
	}
	if len(lines) != len(inboxWorkerCounts)+1 {
		t.Fatalf("%d lines, want a round trip per worker count and the storm: %s", len(lines), stdout.String())
	}
	for i, w := range inboxWorkerCounts {
		m := lines[i]
		requireFields[roundTripRun](t, m)
		lat := m["latency_ms"].(map[string]any)
		if m["phase"] != "roundtrip" || m["workers"] != float64(w) || m["errors"] != 0.0 || m["error"] != nil ||
			m["messages"].(float64) <= 0 || lat["count"] != m["messages"] || m["messages_per_redis_core_s"].(float64) <= 0 {
			t.Errorf("round trip with %d workers: %v", w, m)
		}
	}
	m := lines[len(lines)-1]
	requireFields[stormRun](t, m)
	// Each client is at least a connection.opened and a connection.closed.
	if m["phase"] != "connect_storm" || m["opened"] != float64(clients) || m["error"] != nil ||
		m["events_emitted"].(float64) < 2*clients || m["events_delivered"].(float64) < m["events_emitted"].(float64) ||
		m["backlog_after"] != 0.0 {
		t.Errorf("storm: %v", m)
	}
}
