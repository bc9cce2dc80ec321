package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/wsgateway/wsgateway/service/gatewaytest"
)

// TestHooksSuite runs -suite hooks small: a node per phase, and the lines
// show that each phase is what it claims to be, by the node's own metrics
// and the backend's count, not by timing: no hook call in the baseline, a
// call per publish with the breaker closed, and with the backend down an
// open breaker that answers every call while every publish succeeds.
func TestHooksSuite(t *testing.T) {
	gatewaytest.Binary(t, gatewaytest.BuildOptions{}) // skips under -short
	var stdout, stderr bytes.Buffer
	args := []string{"-suite", "hooks", "-hook-conns", "2", "-warmup", "300ms", "-duration", "700ms", "-timeout", "60s"}
	if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("run %v: exit %d\nstdout: %s\nstderr: %s", args, code, stdout.String(), stderr.String())
	}
	var runs []map[string]any
	var sum map[string]any
	for line := range strings.Lines(stdout.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line is not JSON: %v: %s", err, line)
		}
		if _, ok := m["hooks_summary"]; ok {
			sum = m
			continue
		}
		requireFields[hookRun](t, m)
		runs = append(runs, m)
	}
	if len(runs) != 3 || sum == nil {
		t.Fatalf("%d runs and summary %v, want one run per phase and a summary: %s", len(runs), sum, stdout.String())
	}
	for i, phase := range hookPhases {
		m := runs[i]
		results, _ := m["hook_results"].(map[string]any)
		if m["phase"] != phase || m["errors"] != 0.0 || m["publishes"].(float64) <= 0 || m["publishes_per_s_per_core"].(float64) <= 0 {
			t.Errorf("run %d: phase %v, errors %v, publishes %v, per core %v; want %s, no error, publishes measured: %v",
				i, m["phase"], m["errors"], m["publishes"], m["publishes_per_s_per_core"], phase, m)
		}
		switch phase {
		case "baseline":
			if m["backend_calls"] != 0.0 || len(results) != 0 || m["breaker_state"] != nil {
				t.Errorf("baseline: backend calls %v, hook results %v, breaker %v; want none", m["backend_calls"], results, m["breaker_state"])
			}
		case "breaker_closed":
			if m["backend_calls"].(float64) <= 0 || results["ok"] == nil || m["breaker_state"] != 0.0 {
				t.Errorf("breaker closed: backend calls %v, hook results %v, breaker %v; want calls answered ok, breaker 0", m["backend_calls"], results, m["breaker_state"])
			}
		case "breaker_open":
			if m["backend_calls"] != 0.0 || results["breaker_open"] == nil || results["ok"] != nil || m["breaker_state"] != 2.0 {
				t.Errorf("breaker open: backend calls %v, hook results %v, breaker %v; want breaker_open answers, breaker 2", m["backend_calls"], results, m["breaker_state"])
			}
		}
	}
	p, _ := sum["by_conns"].(map[string]any)["2"].(map[string]any)
	if added, _ := p["added_p50_ms"].(map[string]any); added["breaker_closed"] == nil || added["breaker_open"] == nil {
		t.Errorf("summary %v lacks the added latency of both hook phases for 2 connections", sum)
	}
}

func TestSummarizeHooks(t *testing.T) {
	run := func(phase string, conns int, p50, p99, perCore float64) hookRun {
		return hookRun{Phase: phase, Conns: conns, Latency: summary{P50: p50, P99: p99}, PerCore: perCore}
	}
	s := summarizeHooks([]hookRun{run("baseline", 1, 0.1, 0.2, 1000), run("breaker_closed", 1, 0.3, 0.7, 400),
		run("breaker_open", 1, 0.11, 0.25, 900), run("breaker_closed", 4, 1, 2, 1)})
	p := s.Points["1"]
	if len(s.Points) != 1 || p.AddedP50["breaker_closed"] != 0.2 || p.AddedP99["breaker_closed"] != 0.5 ||
		p.AddedP50["breaker_open"] != 0.01 || p.PerCore["breaker_closed"] != 400 || p.PerCore["baseline"] != 1000 {
		t.Errorf("summary = %+v (point 1: %+v), want the differences to the baseline of 1 connection only", s, p)
	}
	if s := summarizeHooks(nil); s.Error == "" {
		t.Error("a summary without a baseline run has no error")
	}
}
