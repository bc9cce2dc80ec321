package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// benchLine is one wsbench result line (service/cmd/wsbench; the fields are
// described in docs/benchmarks.md). Both scenarios' fields are here; each
// line fills its own.
type benchLine struct {
	Scenario string     `json:"scenario"`
	Conns    int        `json:"conns"`
	Setup    *benchDist `json:"setup_ms"`
	Error    string     `json:"error"`

	// idle
	Connected   int     `json:"connected"`
	Errors      int     `json:"errors"`
	ConnectRate float64 `json:"connect_rate_per_s"`
	RSSPerConn  int64   `json:"rss_per_conn_bytes"`
	RampCPU     float64 `json:"server_cpu_cores_ramp"`

	// fanout
	Subscribed     int            `json:"subscribed"`
	DialErrors     int            `json:"dial_errors"`
	PublishErrors  uint64         `json:"publish_errors"`
	Lost           int64          `json:"lost"`
	Duplicated     int64          `json:"duplicated"`
	Disconnects    map[string]int `json:"subscriber_disconnects"`
	DeliveriesPerS float64        `json:"deliveries_per_s"`
	Latency        *benchDist     `json:"latency_ms"`
	WindowS        float64        `json:"window_s"`
	ServerCPU      float64        `json:"server_cpu_cores"`
}

type benchDist struct {
	Count float64 `json:"count"`
	P50   float64 `json:"p50"`
	P95   float64 `json:"p95"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

func (b *benchDist) dist() *dist {
	if b == nil || b.Count == 0 {
		return nil
	}
	return &dist{Count: b.Count, P50: b.P50, P95: b.P95, P99: b.P99, Max: b.Max}
}

// parseBench reads a file of wsbench lines. Lines without a scenario (the
// {"commandstats": ...} lines of scripts/cluster-bench.sh) are skipped.
func parseBench(name string, data []byte) ([]*loadRun, error) {
	var runs []*loadRun
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var b benchLine
		if err := json.Unmarshal(line, &b); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		if b.Scenario == "" {
			continue
		}
		runs = append(runs, b.run(fmt.Sprintf("%s:%d", name, n)))
	}
	return runs, sc.Err()
}

func (b *benchLine) run(source string) *loadRun {
	// The bench scripts run wsbench against one node; manifest.json says
	// otherwise for make loadtest's runs.
	r := &loadRun{Tool: "wsbench", Source: source, Name: b.Scenario, Scenario: b.Scenario, Nodes: 1,
		Setup: b.Setup.dist()}
	if b.Error != "" {
		r.Problems = append(r.Problems, "error: "+b.Error)
	}
	switch b.Scenario {
	case "idle":
		r.Conns = b.Connected
		r.RSSPerConn, r.ServerCPU = b.RSSPerConn, b.RampCPU
		if b.Errors > 0 {
			r.Problems = append(r.Problems, fmt.Sprintf("%d of %d connections failed", b.Errors, b.Conns))
		}
	case "fanout":
		r.Conns = b.Subscribed
		r.Delivery = b.Latency.dist()
		r.DeliveriesPerS, r.ServerCPU, r.DurationS = b.DeliveriesPerS, b.ServerCPU, b.WindowS
		r.OffsetsChecked, r.Lost, r.Duplicated = true, b.Lost, b.Duplicated
		r.Problems = append(r.Problems, b.fanoutProblems()...)
	}
	return r
}

func (b *benchLine) fanoutProblems() []string {
	var p []string
	if b.Subscribed < b.Conns {
		p = append(p, fmt.Sprintf("%d of %d subscribers subscribed (%d dial errors)", b.Subscribed, b.Conns, b.DialErrors))
	}
	if b.PublishErrors > 0 {
		p = append(p, fmt.Sprintf("%d publish errors", b.PublishErrors))
	}
	if len(b.Disconnects) > 0 {
		var codes []string
		for _, code := range slices.Sorted(maps.Keys(b.Disconnects)) {
			codes = append(codes, fmt.Sprintf("%s ×%d", code, b.Disconnects[code]))
		}
		p = append(p, "subscribers disconnected: "+strings.Join(codes, ", "))
	}
	return p
}
