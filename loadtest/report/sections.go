package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The report's detail sections: one table row per run.

func (d *doc) setup() {
	d.p("## Connection setup")
	d.p("")
	if d.charts[setupChartFile] {
		d.p("![Connection setup latency vs connections](%s)", setupChartFile)
		d.p("")
	}
	d.header("tool", "run", "source", "nodes", "connections", "p50 ms", "p95 ms", "p99 ms", "max ms", "result")
	for _, r := range d.res.Runs {
		if r.Setup == nil {
			continue
		}
		s := r.Setup
		d.row(r.Tool, r.Name, r.Source, nodesText(r), thousands(float64(r.Conns)), msNum(s.P50), msNum(s.P95), msNum(s.P99),
			msNum(s.Max), d.ev.Setup[r].String())
	}
	d.p("")
}

func (d *doc) delivery() {
	d.p("## Delivery")
	d.p("")
	if d.charts[deliveryChartFile] {
		d.p("![Delivery latency vs deliveries/s](%s)", deliveryChartFile)
		d.p("")
	}
	d.header("tool", "run", "source", "nodes", "subscribers", "deliveries/s", "p50 ms", "p95 ms", "p99 ms", "max ms",
		"lost", "duplicated", "gateway CPU", "result")
	for _, r := range d.res.Runs {
		if r.Delivery == nil {
			continue
		}
		l := r.Delivery
		d.row(r.Tool, r.Name, r.Source, nodesText(r), thousands(float64(r.Conns)), thousands(r.DeliveriesPerS), msNum(l.P50),
			msNum(l.P95), msNum(l.P99), msNum(l.Max), counted(r, r.Lost), counted(r, r.Duplicated),
			cores(r.ServerCPU), d.deliveryResult(r))
	}
	d.p("")
	d.p("The delivery objective holds for steady load; reconnect-storm runs are listed for information " +
		"(their result is —): the pushes behind a recovery are late by design. Lost and duplicated " +
		"publications count in every run.")
	d.p("")
}

// nodesText: how many gateway nodes served the run.
func nodesText(r *loadRun) string {
	if r.Nodes == 0 {
		return "?"
	}
	return fmt.Sprint(r.Nodes)
}

func counted(r *loadRun, n int64) string {
	if !r.OffsetsChecked {
		return "—"
	}
	return thousands(float64(n))
}

// deliveryResult: the latency status, failed outright by any loss.
func (d *doc) deliveryResult(r *loadRun) string {
	if r.Lost > 0 || r.Duplicated > 0 {
		return "FAIL (lost or duplicated)"
	}
	return d.ev.Delivery[r].String()
}

// nodeSeries: each node series' chart, the nodes' peaks, events, and the
// recovery figures of the k6 run it belongs to.
func (d *doc) nodeSeries() {
	if len(d.res.Series) == 0 && !d.anyRecovery() {
		return
	}
	d.p("## Connections per node and recovery")
	d.p("")
	if len(d.res.Series) > 0 {
		d.p("*CPU cores while loaded*: the CPU seconds a node used (its `cpu_seconds`) over the wall seconds " +
			"from its first to its last sample holding connections; — when not sampled.")
		d.p("")
	}
	for _, s := range d.res.Series {
		d.p("### %s", s.Run)
		d.p("")
		d.p("![Connections per node: %s](%s)", s.Run, nodesChartFile(s))
		d.p("")
		d.header("node", "most connections", "connections at the end", "CPU cores while loaded")
		for _, st := range s.stats() {
			d.row(st.Node, thousands(st.Peak), thousands(st.Last), cores(st.Cores))
		}
		d.p("")
		for _, e := range s.Events {
			d.p("- at %.1f s: %s", (e.TMs-s.start())/1000, e.Event)
		}
		if s.Unanswered > 0 {
			d.p("- %s of a node that did not answer (stopped or killed)", plural(s.Unanswered, "sample"))
		}
		if s.Skipped > 0 {
			d.p("- %s of `%s` could not be read and were skipped", plural(s.Skipped, "line"), s.Source)
		}
		if len(s.Events) > 0 || s.Skipped > 0 || s.Unanswered > 0 {
			d.p("")
		}
	}
	d.recovery()
}

func (d *doc) anyRecovery() bool {
	for _, r := range d.res.Runs {
		if r.Recovery != nil {
			return true
		}
	}
	return false
}

func (d *doc) recovery() {
	if !d.anyRecovery() {
		return
	}
	d.p("Recovery: from a client's unexpected close to its recovered subscription (k6 `%s`).", metricRecovery)
	d.p("")
	d.header("run", "source", "recoveries", "p50 ms", "p95 ms", "p99 ms", "max ms", "lost", "duplicated")
	for _, r := range d.res.Runs {
		if rc := r.Recovery; rc != nil {
			d.row(r.Name, r.Source, thousands(rc.Count), msNum(rc.P50), msNum(rc.P95), msNum(rc.P99), msNum(rc.Max),
				counted(r, r.Lost), counted(r, r.Duplicated))
		}
	}
	d.p("")
}

func (d *doc) k6Runs() {
	var k6 []*loadRun
	for _, r := range d.res.Runs {
		if r.Tool == "k6" {
			k6 = append(k6, r)
		}
	}
	if len(k6) == 0 {
		return
	}
	d.p("## k6 scenarios")
	d.p("")
	d.header("run", "source", "duration", "thresholds", "failed thresholds", "figures")
	for _, r := range k6 {
		var figs []string
		for _, f := range r.Derived {
			figs = append(figs, f.Name+" = "+derivedText(f.Value))
		}
		failed := strings.Join(r.FailedThresholds, "; ")
		if failed == "" {
			failed = "none"
		}
		d.row(r.Name, r.Source, fmt.Sprintf("%.0f s", math.Round(r.DurationS)),
			fmt.Sprintf("%d of %d held", r.Thresholds-len(r.FailedThresholds), r.Thresholds), failed,
			strings.Join(figs, ", "))
	}
	d.p("")
}

// tools says which tool made which point, and why.
func (d *doc) tools() {
	count := map[string]int{}
	for _, r := range d.res.Runs {
		count[r.Tool]++
	}
	d.p("## Which tool made which point")
	d.p("")
	d.p("Every table above names the tool of each run; in the charts wsbench is drawn solid with circles, " +
		"k6 dashed with squares, JMeter solid with triangles.")
	d.p("")
	d.p("- **k6** (`loadtest/k6/`): %s: the scenarios with thresholds (connect storm, fan-out, reconnect "+
		"storm, soak), the CI gate.", plural(count["k6"], "run"))
	d.p("- **wsbench** (`service/cmd/wsbench`, the project's Go load tool): %s: the heavy fan-out points, "+
		"where k6's CPU cost per message (about 0.2 ms) would measure k6 rather than the gateway, and the "+
		"single-node figures of docs/benchmarks.md.", plural(count["wsbench"], "run"))
	d.p("- **JMeter** 5.6.3 with the WebSocket samplers plugin (`loadtest/jmeter/wsgateway.jmx`): %s: "+
		"connection setup (its connect thread group), delivery latency (the Latency column of `fanout: "+
		"delivery`, publish stamp to receipt, one sample per frame) and lost and duplicated offsets (its "+
		"offset assertion), for teams that load-test with JMeter; one thread per connection.",
		plural(count["jmeter"], "run"))
	if line := compareTools(d.res.Runs); line != "" {
		d.p("")
		d.p("%s", line)
	}
	d.p("")
	d.p("The *nodes* column says how many gateway nodes shared a run's load (? when the input does not say); " +
		"per-pod figures divide a cluster run's load by the busiest node's share of it.")
}

// round3 rounds to three decimals, for figures shown next to constants.
func round3(v float64) float64 {
	return math.Round(v*1000) / 1000
}

// derivedText rounds a k6 scenario's derived number for reading; other
// values stay as they are.
func derivedText(v string) string {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return figureText(f)
	}
	return v
}
