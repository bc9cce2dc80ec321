package main

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/wsgateway/wsgateway/service/gatewaytest"
)

// startGateway runs the gateway binary in --dev on ports the kernel picks;
// the test's cleanup kills it, by its PID, and nothing else.
func startGateway(t *testing.T) *gatewaytest.Node {
	t.Helper()
	return gatewaytest.Start(t, gatewaytest.Options{Args: []string{"--dev", "--drain-delay", "0s", "--drain-window", "0s",
		// Short, so that a hold of a few seconds must answer pings.
		"--ping-interval", "1s"}})
}

// runBench runs wsbench in-process and decodes its JSON line.
func runBench(t *testing.T, args ...string) map[string]any {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("run %v: exit %d\nstdout: %s\nstderr: %s", args, code, stdout.String(), stderr.String())
	}
	if n := strings.Count(stdout.String(), "\n"); n != 1 {
		t.Fatalf("stdout has %d lines, want exactly one JSON line: %s", n, stdout.String())
	}
	var m map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &m); err != nil {
		t.Fatalf("result is not JSON: %v: %s", err, stdout.String())
	}
	return m
}

// requireFields checks that m has every field of the result type T that is
// not omitempty.
func requireFields[T any](t *testing.T, m map[string]any) {
	t.Helper()
	rt := reflect.TypeFor[T]()
	for i := range rt.NumField() {
		f := rt.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if _, ok := m[name]; !ok && opts != "omitempty" {
			t.Errorf("result has no %q field: %v", name, m)
		}
	}
}

func TestScenariosAgainstGateway(t *testing.T) {
	g := startGateway(t) // skips under -short
	common := []string{"-url", g.URL(), "-api", g.APIURL(), "-server-pid", strconv.Itoa(g.PID()), "-timeout", "60s"}

	t.Run("idle", func(t *testing.T) {
		m := runBench(t, append(common, "-scenario", "idle", "-conns", "50", "-hold", "200ms")...)
		requireFields[idleResult](t, m)
		if m["connected"] != 50.0 || m["errors"] != 0.0 || m["server_connections"] != 50.0 {
			t.Errorf("connected %v, errors %v, server holds %v; want 50, 0, 50: %v",
				m["connected"], m["errors"], m["server_connections"], m)
		}
		if m["server_rss_after_bytes"].(float64) <= 0 {
			t.Errorf("server RSS not read: %v", m)
		}
	})
	t.Run("idle hold answers pings", func(t *testing.T) {
		// Unanswered, the 1 s pings would close every connection after 2 s.
		m := runBench(t, append(common, "-scenario", "idle", "-conns", "20", "-hold", "3s")...)
		if m["connected"] != 20.0 || m["dropped_during_hold"] != 0.0 || m["server_connections"] != 20.0 {
			t.Errorf("connected %v, dropped %v, server holds %v; want 20, 0, 20: %v",
				m["connected"], m["dropped_during_hold"], m["server_connections"], m)
		}
	})
	t.Run("fanout", func(t *testing.T) {
		m := runBench(t, append(common, "-scenario", "fanout", "-conns", "20", "-rate", "50",
			"-warmup", "500ms", "-duration", "2s")...)
		requireFields[fanoutResult](t, m)
		for _, f := range []string{"lost", "duplicated", "unparsed", "publish_errors", "dial_errors"} {
			if m[f] != 0.0 {
				t.Errorf("%s = %v, want 0: %v", f, m[f], m)
			}
		}
		if m["delivered"].(float64) <= 0 || m["delivered"] != m["expected_deliveries"] {
			t.Errorf("delivered %v of %v expected", m["delivered"], m["expected_deliveries"])
		}
		if lat := m["latency_ms"].(map[string]any); lat["count"].(float64) <= 0 || lat["p99"].(float64) <= 0 {
			t.Errorf("no latencies recorded: %v", lat)
		}
	})
}

// TestSweepStartsItsOwnGateway runs the fanout-sweep suite small: it builds
// and starts the gateway itself and prints one JSON line per rate, each on
// a fresh channel.
func TestSweepStartsItsOwnGateway(t *testing.T) {
	gatewaytest.Binary(t, gatewaytest.BuildOptions{}) // skips under -short
	var stdout, stderr bytes.Buffer
	args := []string{"-suite", "fanout-sweep", "-conns", "20", "-rates", "20,50", "-warmup", "300ms", "-duration", "1s", "-timeout", "60s"}
	if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("run %v: exit %d\nstdout: %s\nstderr: %s", args, code, stdout.String(), stderr.String())
	}
	var lines []map[string]any
	for line := range strings.Lines(stdout.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line is not JSON: %v: %s", err, line)
		}
		requireFields[fanoutResult](t, m)
		lines = append(lines, m)
	}
	if len(lines) != 2 {
		t.Fatalf("%d lines, want one per rate: %s", len(lines), stdout.String())
	}
	for i, want := range []float64{20, 50} {
		if m := lines[i]; m["rate_target"] != want || m["lost"] != 0.0 || m["delivered"] != m["expected_deliveries"] || m["server_rss_bytes"].(float64) <= 0 {
			t.Errorf("run %d: rate %v, lost %v, delivered %v of %v, server RSS %v; want rate %v, nothing lost, the server read",
				i, m["rate_target"], m["lost"], m["delivered"], m["expected_deliveries"], m["server_rss_bytes"], want)
		}
	}
	if lines[0]["channel"] == lines[1]["channel"] {
		t.Errorf("both runs on channel %v, want a fresh one each", lines[0]["channel"])
	}
}

func TestFlagsAreCheckedTogether(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-scenario", "burst", "-conns", "0", "-suite", "soak", "-rates", "0"}, &stdout, &stderr)
	if code != 2 || stdout.Len() != 0 {
		t.Fatalf("exit %d, stdout %q; want 2 and nothing", code, stdout.String())
	}
	for _, want := range []string{"-scenario must be idle or fanout", "-conns must be positive",
		"-suite must be idle, fanout-sweep, cluster, hooks or inbox", "-rates: 0 must be in"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr %q lacks %q", stderr.String(), want)
		}
	}
}
