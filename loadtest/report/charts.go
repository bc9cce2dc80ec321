package main

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg/draw"
)

// The chart files the report writes next to report.md.
const (
	setupChartFile    = "setup-latency-vs-connections.svg"
	deliveryChartFile = "delivery-latency-vs-deliveries.svg"
)

// nodesChartFile is the chart of one node series.
func nodesChartFile(s *nodeSeries) string { return s.Run + "-nodes.svg" }

// chart is what a line chart shows: series of points, horizontal reference
// lines (objectives) and vertical ones (events). plot.go draws it.
type chart struct {
	Title, XLabel, YLabel string
	Series                []series
	HLines, VLines        []refLine
	XFromZero             bool // start the x axis at 0 (the y axis always does)
}

type series struct {
	Name   string
	Points []xy // drawn in this order
	Color  color.Color
	Dashed bool
	Marker draw.GlyphDrawer // nil: none
}

type xy struct{ X, Y float64 }

type refLine struct {
	At    float64
	Label string
	Color color.Color
}

// Colours, from gonum's dark palette: one per percentile, red for the
// objectives, and one per node in order of first appearance.
var (
	percentileColors = map[string]color.Color{"p50": plotutil.DarkColors[2], "p95": plotutil.DarkColors[3],
		"p99": plotutil.DarkColors[4]}
	objectiveColor = plotutil.DarkColors[0]
	eventColor     = color.Gray{Y: 0x55}
)

func nodeColor(i int) color.Color {
	return plotutil.DarkColors[i%len(plotutil.DarkColors)]
}

// percentileChart plots p50, p95 and p99 of each group of runs against a
// load. Runs of one group (same tool and shape of test) form one line;
// wsbench is drawn solid with circles, k6 dashed with squares.
func percentileChart(c chart, runs []*loadRun, group func(*loadRun) string, load func(*loadRun) float64, d func(*loadRun) *dist) chart {
	var groups []string
	for _, r := range runs {
		if !slices.Contains(groups, group(r)) {
			groups = append(groups, group(r))
		}
	}
	for _, g := range groups {
		var members []*loadRun
		for _, r := range runs {
			if group(r) == g {
				members = append(members, r)
			}
		}
		slices.SortStableFunc(members, func(a, b *loadRun) int { return cmpFloat(load(a), load(b)) })
		k6 := members[0].Tool == "k6"
		for _, p := range []string{"p50", "p95", "p99"} {
			s := series{Name: g + " " + p, Color: percentileColors[p], Dashed: k6, Marker: draw.CircleGlyph{}}
			switch members[0].Tool {
			case "k6":
				s.Marker = draw.BoxGlyph{}
			case "jmeter":
				s.Marker = draw.TriangleGlyph{}
			}
			for _, r := range members {
				if v := pick(d(r), p); !math.IsNaN(v) { // NaN: not in the summary
					s.Points = append(s.Points, xy{load(r), v})
				}
			}
			c.Series = append(c.Series, s)
		}
	}
	return c
}

func pick(d *dist, p string) float64 {
	switch p {
	case "p50":
		return d.P50
	case "p95":
		return d.P95
	}
	return d.P99
}

// setupChart: connection setup percentiles against connections held, from
// the connection scenarios (k6 connect-storm, wsbench idle).
func setupChart(runs []*loadRun, o objectives) (chart, bool) {
	var sel []*loadRun
	for _, r := range runs {
		if r.Setup != nil && (r.Scenario == "connect-storm" || r.Scenario == "idle") {
			sel = append(sel, r)
		}
	}
	c := chart{Title: "Connection setup latency vs connections", XLabel: "connections held",
		YLabel: "setup time, dial to connect reply (ms)", XFromZero: true,
		HLines: []refLine{{At: o.SetupP99Ms, Label: "objective: p99 < " + trimZeros(o.SetupP99Ms) + " ms", Color: objectiveColor}}}
	group := func(r *loadRun) string { return r.Tool + " " + r.Scenario }
	return percentileChart(c, sel, group, func(r *loadRun) float64 { return float64(r.Conns) },
		func(r *loadRun) *dist { return r.Setup }), len(sel) > 0
}

// deliveryChart: delivery latency percentiles against deliveries/s, from
// the fan-out runs, one line per tool and number of subscribers.
func deliveryChart(runs []*loadRun, o objectives) (chart, bool) {
	var sel []*loadRun
	for _, r := range runs {
		if r.Delivery != nil && r.Scenario == "fanout" {
			sel = append(sel, r)
		}
	}
	c := chart{Title: "Delivery latency vs deliveries/s", XLabel: "deliveries per second",
		YLabel: "delivery latency, publish to receipt (ms)", XFromZero: true,
		HLines: []refLine{{At: o.DeliveryP99Ms, Label: "objective: p99 < " + trimZeros(o.DeliveryP99Ms) + " ms", Color: objectiveColor}}}
	group := func(r *loadRun) string { return fmt.Sprintf("%s %s subs", r.Tool, thousands(float64(r.Conns))) }
	return percentileChart(c, sel, group, func(r *loadRun) float64 { return r.DeliveriesPerS },
		func(r *loadRun) *dist { return r.Delivery }), len(sel) > 0
}

// nodesChart: each node's connections over the run, events marked.
func nodesChart(s *nodeSeries) chart {
	c := chart{Title: "Connections per node: " + s.Run, XLabel: "seconds since the first sample",
		YLabel: "connections", XFromZero: true}
	t0 := s.start()
	for i, n := range s.nodes() {
		ser := series{Name: n, Color: nodeColor(i)}
		for _, x := range s.Samples {
			if x.Node == n {
				ser.Points = append(ser.Points, xy{(x.TMs - t0) / 1000, x.Connections})
			}
		}
		c.Series = append(c.Series, ser)
	}
	for _, e := range s.Events {
		c.VLines = append(c.VLines, refLine{At: (e.TMs - t0) / 1000, Label: e.Event, Color: eventColor})
	}
	return c
}
