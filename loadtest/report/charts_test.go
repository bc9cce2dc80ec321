package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gonum.org/v1/plot/vg/draw"
)

// TestCharts: each chart of the recorded results shows the right series in
// order, drawn by tool (k6 dashed with squares, wsbench solid with
// circles), with the objective or the injected fault marked.
func TestCharts(t *testing.T) {
	res, err := load("testdata/in", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	o := objectives{SetupP99Ms: 50, DeliveryP99Ms: 100}
	setup, okSetup := setupChart(res.Runs, o)
	delivery, okDelivery := deliveryChart(res.Runs, o)
	if !okSetup || !okDelivery {
		t.Fatalf("setup chart %v, delivery chart %v: want both", okSetup, okDelivery)
	}
	nodes := map[string]chart{}
	for _, s := range res.Series {
		nodes[s.Run] = nodesChart(s)
	}
	cases := []struct {
		name   string
		chart  chart
		series []string // name, style and number of points
		lines  []string // reference lines: objectives, then events
	}{
		{"setup", setup, percentileSeries("k6 connect-storm", "k6", 1, "wsbench idle", "wsbench", 3),
			[]string{"objective: p99 < 50 ms"}},
		{"delivery", delivery, slices.Concat(percentileSeries("k6 200 subs", "k6", 1, "jmeter 20 subs", "jmeter", 1),
			percentileSeries("wsbench 2,000 subs", "wsbench", 5, "", "", 0)[:3]),
			[]string{"objective: p99 < 100 ms"}},
		{"reconnect-storm nodes", nodes["reconnect-storm"], []string{"lt-node1", "lt-node2", "lt-node3"},
			[]string{"drain lt-node2"}},
		{"fanout nodes", nodes["fanout"], []string{"lt-node1", "lt-node2", "lt-node3"}, nil},
	}
	for _, tc := range cases {
		var got, lines []string
		for _, s := range tc.chart.Series {
			got = append(got, seriesText(s))
		}
		for _, l := range append(tc.chart.HLines, tc.chart.VLines...) {
			lines = append(lines, l.Label)
		}
		if strings.HasSuffix(tc.name, "nodes") { // points: one per sample, checked in nodes_test.go
			for i := range got {
				got[i], _, _ = strings.Cut(got[i], ":")
			}
		}
		if diff := cmp.Diff(tc.series, got); diff != "" {
			t.Errorf("%s: series (-want +got):\n%s", tc.name, diff)
		}
		if diff := cmp.Diff(tc.lines, lines); diff != "" {
			t.Errorf("%s: reference lines (-want +got):\n%s", tc.name, diff)
		}
	}
	// The points of one series of each: the wsbench runs' p99, by load.
	wantIdle := []xy{{2000, 19.455}, {5000, 23.039}, {10000, 21.503}}
	wantSweep := []xy{{10000, 61.439}, {40000, 26.111}, {99979.625, 25.599}, {200254, 69.631}, {300423.125, 159.743}}
	if diff := cmp.Diff(wantIdle, setup.Series[5].Points); diff != "" {
		t.Errorf("setup chart, %s (-want +got):\n%s", setup.Series[5].Name, diff)
	}
	if diff := cmp.Diff(wantSweep, delivery.Series[8].Points); diff != "" {
		t.Errorf("delivery chart, %s (-want +got):\n%s", delivery.Series[8].Name, diff)
	}
}

// percentileSeries lists the p50, p95 and p99 series of two groups as
// seriesText shows them.
func percentileSeries(group1, tool1 string, n1 int, group2, tool2 string, n2 int) []string {
	var out []string
	for _, g := range []struct {
		name, tool string
		n          int
	}{{group1, tool1, n1}, {group2, tool2, n2}} {
		style := map[string]string{"k6": "dashed squares", "jmeter": "solid triangles"}[g.tool]
		if style == "" {
			style = "solid circles"
		}
		for _, p := range []string{"p50", "p95", "p99"} {
			out = append(out, fmt.Sprintf("%s %s: %s, %d points", g.name, p, style, g.n))
		}
	}
	return out
}

// seriesText: "name: style, n points".
func seriesText(s series) string {
	style := "solid"
	if s.Dashed {
		style = "dashed"
	}
	switch s.Marker.(type) {
	case draw.CircleGlyph:
		style += " circles"
	case draw.BoxGlyph:
		style += " squares"
	case draw.TriangleGlyph:
		style += " triangles"
	}
	return fmt.Sprintf("%s: %s, %d points", s.Name, style, len(s.Points))
}
