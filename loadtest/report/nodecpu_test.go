package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// at is one node's sample at second t: its connections and cpu_seconds.
func at(t, conns, cpu float64) nodeSample {
	return nodeSample{TMs: t * 1000, Node: "a", Connections: conns, Subscriptions: conns, CPUSeconds: cpu}
}

func TestLoadedCores(t *testing.T) {
	cases := []struct {
		name    string
		samples []nodeSample
		want    float64
	}{
		{"window: idle time around the load is left out", []nodeSample{
			at(0, 0, 1), at(1, 10, 1.1), at(2, 10, 1.3), at(3, 10, 1.5), at(4, 0, 3.5)}, 0.2},
		{"window: a dip to no connections inside it stays in", []nodeSample{
			at(0, 10, 1), at(1, 0, 1.2), at(2, 10, 1.4)}, 0.2},
		{"counter reset: the pair across the restart is left out", []nodeSample{
			at(0, 10, 5), at(1, 10, 5.5), at(2, 10, 0.2), at(3, 10, 0.7)}, 0.5},
		{"counter reset: a restarted node reading 0 is not sampled", []nodeSample{
			at(0, 10, 5), at(1, 10, 5.5), at(2, 10, 0), at(3, 10, 0.3), at(4, 10, 0.8)}, 0.5},
		{"node not answering: its gap falls inside one pair", []nodeSample{
			at(0, 10, 1), at(3, 10, 1.6)}, 0.2},
		{"a sample without cpu_seconds is skipped", []nodeSample{
			at(0, 10, 1), at(1, 10, 0), at(2, 10, 1.4)}, 0.2},
		{"no cpu_seconds column", []nodeSample{at(0, 10, 0), at(1, 10, 0), at(2, 10, 0)}, 0},
		{"never loaded", []nodeSample{at(0, 0, 1), at(1, 0, 2)}, 0},
		{"loaded in one sample only", []nodeSample{at(0, 0, 1), at(1, 10, 2), at(2, 0, 3)}, 0},
		{"no samples", nil, 0},
	}
	for _, tc := range cases {
		if got := loadedCores(tc.samples); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: %v cores, want %v", tc.name, got, tc.want)
		}
	}
}

// TestNodeSeriesCPU reads cpu_seconds from a node series, with a node that
// stops answering, into each node's cores while loaded.
func TestNodeSeriesCPU(t *testing.T) {
	s, err := parseNodes("cpu-nodes.csv", []byte("unix_s,node,connections,subscriptions,cpu_seconds\n"+
		"1,a,10,10,1.0\n1,b,5,5,2.0\n2,a,10,10,1.5\n2,b,,,\n3,a,10,10,2.0\n3,b,5,5,2.2\n"))
	if err != nil {
		t.Fatal(err)
	}
	stats := s.stats()
	if len(stats) != 2 || math.Abs(stats[0].Cores-0.5) > 1e-9 || math.Abs(stats[1].Cores-0.1) > 1e-9 {
		t.Errorf("stats %+v, want a using 0.5 cores and b 0.1", stats)
	}
	if st, share := s.busiest(); st.Node != "a" || st.Cores != stats[0].Cores || share != 10.0/15 {
		t.Errorf("busiest %+v with share %v, want a with 2/3", st, share)
	}
}

// TestBusiestTie: of nodes with the same peak, the busiest is the one that
// used more CPU, whatever its name.
func TestBusiestTie(t *testing.T) {
	s := &nodeSeries{Samples: []nodeSample{
		{TMs: 0, Node: "a", Connections: 5, CPUSeconds: 1}, {TMs: 0, Node: "b", Connections: 5, CPUSeconds: 1},
		{TMs: 1000, Node: "a", Connections: 5, CPUSeconds: 1.1}, {TMs: 1000, Node: "b", Connections: 5, CPUSeconds: 1.3},
	}}
	if st, share := s.busiest(); st.Node != "b" || share != 0.5 {
		t.Errorf("busiest %+v with share %v, want b with 1/2", st, share)
	}
}

func TestPodCPU(t *testing.T) {
	series := &nodeSeries{Source: "x-nodes.csv", Samples: []nodeSample{
		{TMs: 0, Node: "a", Connections: 10, CPUSeconds: 1}, {TMs: 0, Node: "b", Connections: 20, CPUSeconds: 1},
		{TMs: 2000, Node: "a", Connections: 10, CPUSeconds: 3}, {TMs: 2000, Node: "b", Connections: 20, CPUSeconds: 1.5},
	}}
	cases := []struct {
		name     string
		run      loadRun
		want     float64
		wantFrom string
	}{
		{"one node: wsbench's reading", loadRun{Nodes: 1, ServerCPU: 0.9, Series: series}, 0.9, "wsbench"},
		{"cluster: the busiest node, not the one using most CPU", loadRun{Nodes: 3, ServerCPU: 0.9, Series: series},
			0.25, "b's cpu_seconds in x-nodes.csv"},
		{"cluster without a series", loadRun{Nodes: 3, ServerCPU: 0.9}, 0, ""},
		{"series without cpu_seconds", loadRun{Nodes: 3, Series: &nodeSeries{Samples: []nodeSample{
			{Node: "a", Connections: 1}, {TMs: 1000, Node: "a", Connections: 1}}}}, 0, ""},
	}
	for _, tc := range cases {
		got, from := podCPU(&tc.run)
		if got != tc.want || !strings.Contains(from, tc.wantFrom) {
			t.Errorf("%s: %v cores from %q, want %v from %q", tc.name, got, from, tc.want, tc.wantFrom)
		}
	}
}

// TestClusterDeliveriesPerCore: without the wsbench sweep, the per-pod
// deliveries come from make loadtest's k6 fan-out through three nodes, and
// its CPU from the busiest node's cpu_seconds in fanout-nodes.csv.
func TestClusterDeliveriesPerCore(t *testing.T) {
	dir := copyInputs(t)
	if err := os.Remove(filepath.Join(dir, "wsbench-fanout-sweep.jsonl")); err != nil {
		t.Fatal(err)
	}
	runReport(t, goldenArgs(dir, dir), exitOK)
	var cp capacity
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, "capacity.json")), &cp); err != nil {
		t.Fatal(err)
	}
	// Read off fanout-nodes.csv: lt-node2 and lt-node3 share the peak of 67
	// of the 200 subscriptions; lt-node2 used more CPU, 0.53 s from its
	// first loaded sample (1795248144.099, 0.53 s) to its last
	// (1795248179.824, 1.06 s). fanout.json measured 1,003.3 deliveries/s.
	pod := 1003.3333333333334 * 67 / 200
	cores := 0.53 / (1795248179.824 - 1795248144.099)
	p := cp.PerPod
	if p.DeliveriesAt == nil || p.DeliveriesAt.Source != "fanout.json" || math.Abs(p.DeliveriesPerS-pod) > 1e-6 {
		t.Fatalf("deliveries %v at %+v, want %v from fanout.json", p.DeliveriesPerS, p.DeliveriesAt, pod)
	}
	if math.Abs(p.CPUCoresAtDeliveries-cores) > 1e-4 || p.DeliveriesPerCPUCore != math.Round(pod/cores) {
		t.Errorf("%v cores, %v deliveries per core; want %.4f, %v", p.CPUCoresAtDeliveries, p.DeliveriesPerCPUCore,
			cores, math.Round(pod/cores))
	}
	if !strings.Contains(p.CPUFrom, "lt-node2") || !strings.Contains(p.CPUFrom, "fanout-nodes.csv") {
		t.Errorf("cpu_from %q, want lt-node2 in fanout-nodes.csv", p.CPUFrom)
	}
	md := string(readFile(t, filepath.Join(dir, "report.md")))
	row := findTable(t, md, "figure").rowWhere(t, "figure", "gateway CPU at that load")
	if row["value"] != "0.015 cores" || row["measured at"] != p.CPUFrom {
		t.Errorf("report's CPU row %v, want 0.015 cores from %q", row, p.CPUFrom)
	}
}

// TestCoresText: a node's cores while loaded, often hundredths of a core in
// a smoke run, keep two significant digits.
func TestCoresText(t *testing.T) {
	for v, want := range map[float64]string{0: "—", 1.098: "1.10", 0.1: "0.10", 0.0148: "0.015", 0.0196: "0.020"} {
		if got := cores(v); got != want {
			t.Errorf("cores(%v) = %q, want %q", v, got, want)
		}
	}
}
