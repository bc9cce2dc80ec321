package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the report's current output")

// TestGolden runs the report on the recorded results in testdata/in (see
// testdata/README.md) and compares every file it writes but the charts with
// testdata/golden. After an intended change: go test ./loadtest/report -update.
func TestGolden(t *testing.T) {
	out := t.TempDir()
	runReport(t, goldenArgs("testdata/in", out), exitOK)
	got := dirFiles(t, out)
	for name := range got {
		if strings.HasSuffix(name, ".svg") {
			delete(got, name) // gonum/plot's drawing: charts_test.go checks what the charts show
		}
	}
	if *update {
		if err := os.RemoveAll("testdata/golden"); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll("testdata/golden", 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range got {
			if err := os.WriteFile(filepath.Join("testdata/golden", name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	want := dirFiles(t, "testdata/golden")
	if diff := cmp.Diff(slices.Sorted(maps.Keys(want)), slices.Sorted(maps.Keys(got))); diff != "" {
		t.Errorf("files written (-golden +got):\n%s", diff)
	}
	for name, w := range want {
		if diff := cmp.Diff(w, got[name]); diff != "" {
			t.Errorf("%s differs from testdata/golden (-golden +got); run with -update if intended:\n%s", name, diff)
		}
	}
}

func dirFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		out[e.Name()] = string(readFile(t, filepath.Join(dir, e.Name())))
	}
	return out
}

// TestChartFiles: the report writes one SVG file per chart, each
// well-formed, naming every series and reference line it draws.
func TestChartFiles(t *testing.T) {
	out := t.TempDir()
	runReport(t, goldenArgs("testdata/in", out), exitOK)
	want := map[string][]string{
		setupChartFile:              {"wsbench idle p99", "k6 connect-storm p99", "objective: p99 &lt; 50 ms"},
		deliveryChartFile:           {"wsbench 2,000 subs p99", "k6 200 subs p99", "objective: p99 &lt; 100 ms"},
		"reconnect-storm-nodes.svg": {"lt-node1", "lt-node2", "lt-node3", "drain lt-node2"},
		"connect-storm-nodes.svg":   {"lt-node1"},
		"fanout-nodes.svg":          {"lt-node3"},
	}
	written, err := filepath.Glob(filepath.Join(out, "*.svg"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range written {
		written[i] = filepath.Base(written[i])
	}
	if diff := cmp.Diff(slices.Sorted(maps.Keys(want)), written); diff != "" {
		t.Errorf("charts written (-want +got):\n%s", diff)
	}
	for name, texts := range want {
		data, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Error(err)
			continue
		}
		if err := wellFormed(data); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		for _, s := range texts {
			if !bytes.Contains(data, []byte(">"+s+"<")) {
				t.Errorf("%s: no text %q", name, s)
			}
		}
	}
}

// wellFormed decodes every token; the root element must be svg.
func wellFormed(data []byte) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	root := ""
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		return fmt.Errorf("root element %q, want svg", root)
	}
	return nil
}

// TestReportNumbers checks the report's figures against the inputs, read
// here on their own: each run's percentiles, the objectives' worst values
// and the per-pod capacity.
func TestReportNumbers(t *testing.T) {
	out := t.TempDir()
	runReport(t, goldenArgs("testdata/in", out), exitOK)
	md := string(readFile(t, filepath.Join(out, "report.md")))
	delivery := findTable(t, md, "deliveries/s")
	setup := findTable(t, md, "connections")
	var worstSetup, worstDelivery, bestDeliveries float64
	for i, line := range jsonLines(t, "testdata/in/wsbench-fanout-sweep.jsonl") {
		src := fmt.Sprintf("wsbench-fanout-sweep.jsonl:%d", i+1)
		lat, rate := obj(line, "latency_ms"), line["deliveries_per_s"].(float64)
		checkCells(t, delivery.rowWhere(t, "source", src), lat, thousands(rate))
		checkCells(t, setup.rowWhere(t, "source", src), obj(line, "setup_ms"), "")
		worstSetup = max(worstSetup, obj(line, "setup_ms")["p99"].(float64))
		if p99 := lat["p99"].(float64); p99 < 100 { // the one point above is over capacity
			worstDelivery, bestDeliveries = max(worstDelivery, p99), max(bestDeliveries, rate)
		}
	}
	for i, line := range jsonLines(t, "testdata/in/wsbench-idle.jsonl") {
		src := fmt.Sprintf("wsbench-idle.jsonl:%d", i+1)
		checkCells(t, setup.rowWhere(t, "source", src), obj(line, "setup_ms"), "")
		worstSetup = max(worstSetup, obj(line, "setup_ms")["p99"].(float64))
	}
	for _, name := range []string{"connect-storm", "fanout", "reconnect-storm"} {
		var s map[string]any
		if err := json.Unmarshal(readFile(t, "testdata/in/"+name+".json"), &s); err != nil {
			t.Fatal(err)
		}
		v := obj(s, "metrics", metricSetup, "values")
		checkCells(t, setup.rowWhere(t, "source", name+".json"), k6Percentiles(v), "")
		worstSetup = max(worstSetup, v["p(99)"].(float64))
		if name == "fanout" {
			v := obj(s, "metrics", metricDelivery, "values")
			checkCells(t, delivery.rowWhere(t, "source", name+".json"), k6Percentiles(v), "")
			worstDelivery = max(worstDelivery, v["p(99)"].(float64))
		}
	}
	objectives := findTable(t, md, "objective")
	wantMeasured := map[string]string{"connection setup p99": ms(worstSetup), "delivery p99": ms(worstDelivery),
		"publications lost": "0", "publications duplicated": "0"}
	for name, want := range wantMeasured {
		if got := objectives.rowWhere(t, "objective", name)["measured"]; got != want {
			t.Errorf("objective %q: measured %q, want %q", name, got, want)
		}
	}
	var cp capacity
	if err := json.Unmarshal(readFile(t, filepath.Join(out, "capacity.json")), &cp); err != nil {
		t.Fatal(err)
	}
	if cp.PerPod.DeliveriesPerS != bestDeliveries || cp.PerPod.Connections != 10000 {
		t.Errorf("capacity.json per pod: %v deliveries/s, %d connections; want %v, 10000",
			cp.PerPod.DeliveriesPerS, cp.PerPod.Connections, bestDeliveries)
	}
}

// checkCells compares a row's percentile cells (and deliveries/s when
// given) with the input's.
func checkCells(t *testing.T, row map[string]string, d map[string]any, deliveries string) {
	t.Helper()
	for _, p := range []string{"p50", "p95", "p99", "max"} {
		want := fmt.Sprintf("%.1f", d[p].(float64))
		if got := row[p+" ms"]; got != want {
			t.Errorf("%s: %s %q, want %q", row["source"], p, got, want)
		}
	}
	if deliveries != "" && row["deliveries/s"] != deliveries {
		t.Errorf("%s: deliveries/s %q, want %q", row["source"], row["deliveries/s"], deliveries)
	}
}

func k6Percentiles(v map[string]any) map[string]any {
	return map[string]any{"p50": v["p(50)"], "p95": v["p(95)"], "p99": v["p(99)"], "max": v["max"]}
}

func jsonLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(readFile(t, path)))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// TestMatches: how a figure in use compares with the measured one.
func TestMatches(t *testing.T) {
	cases := []struct {
		name            string
		value, measured float64
		lowerBound      bool
		wantStatus      string
		wantOK          bool
	}{
		{"within the tolerance", 104, 100, false, "matches (within 5 %)", true},
		{"below the measured figure", 50, 100, true, "differs by -50 % from the measured figure", false},
		{"above a lower bound", 200, 100, true, "not confirmed: no load that high was tested", false},
		{"above a bracketed figure", 200, 100, false, "differs by +100 % from the measured figure", false},
		{"nothing measured", 100, 0, true, "not measured", false},
	}
	for _, tc := range cases {
		if status, ok := matches(tc.value, tc.measured, tc.lowerBound); status != tc.wantStatus || ok != tc.wantOK {
			t.Errorf("%s: %q, %v; want %q, %v", tc.name, status, ok, tc.wantStatus, tc.wantOK)
		}
	}
}

// Lines of the report's objectives table, for the failure cases.
func objectiveResults(t *testing.T, dir string) map[string]string {
	t.Helper()
	md := string(readFile(t, filepath.Join(dir, "report.md")))
	out := map[string]string{}
	for _, r := range findTable(t, md, "objective") {
		out[r["objective"]] = r["result"] + " " + r["measured"]
	}
	out["verdict"] = strings.SplitN(md, "\n", 4)[2]
	return out
}
