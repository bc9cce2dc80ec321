package main

import (
	"fmt"
	"math"
	"strings"
)

// doc is the report being written, with the charts it links to.
type doc struct {
	strings.Builder
	res    *results
	ev     evaluation
	cap    capacity
	charts map[string]bool // chart files written
	inDir  string
}

func (d *doc) p(format string, args ...any) {
	fmt.Fprintf(d, format+"\n", args...)
}

// row writes one markdown table row.
func (d *doc) row(cells ...string) {
	for i := range cells {
		cells[i] = cell(cells[i])
	}
	d.p("| %s |", strings.Join(cells, " | "))
}

func (d *doc) header(cells ...string) {
	d.row(cells...)
	d.p("|%s", strings.Repeat(" --- |", len(cells)))
}

// markdown builds report.md.
func (d *doc) markdown() string {
	d.p("# wsgateway capacity report")
	d.p("")
	d.verdict()
	d.objectives()
	d.capacity()
	d.setup()
	d.delivery()
	d.nodeSeries()
	d.k6Runs()
	d.tools()
	return d.String()
}

func (d *doc) verdict() {
	if d.ev.Pass() {
		d.p("**Verdict: PASS**: every objective was met.")
	} else {
		var missed []string
		for _, c := range d.ev.Checks {
			if !c.Pass {
				missed = append(missed, c.Name)
			}
		}
		d.p("**Verdict: FAIL**: %s.", strings.Join(missed, ", "))
	}
	d.p("")
	d.p("Made by `go run ./loadtest/report` from the %d files in `%s`: %s.", len(d.res.Files), d.inDir,
		strings.Join(d.res.Files, ", "))
	d.p("")
	if d.res.Manifest != nil {
		d.p("%s", d.res.Manifest.describe())
		d.p("")
	}
}

func (d *doc) objectives() {
	d.p("## Objectives")
	d.p("")
	d.header("objective", "target", "measured", "where", "result")
	for _, c := range d.ev.Checks {
		d.row(c.Name, c.Target, c.Measured, c.Where, c.Result())
	}
	d.p("")
	d.p("A run that misses a latency objective at a higher load than a run of the same series that met it is " +
		"*over capacity*: a sweep finds the capacity by going past it, so such runs bound the capacity and do not " +
		"fail the objective. Lost and duplicated publications count at every load.")
	d.p("")
}

func (d *doc) capacity() {
	p := d.cap.PerPod
	d.p("## Per-pod capacity")
	d.p("")
	d.p("The most one gateway pod carried while meeting every objective, from the runs whose load per pod is " +
		"known: runs against one node, and cluster runs with node samples. `capacity.json` holds these " +
		"figures, to bring to `" + figuresFile + "` when they move: the Grafana Capacity dashboard and the k8s " +
		"tests read the figures in use from there.")
	d.p("")
	d.header("figure", "value", "measured at")
	d.row("deliveries/s per pod", orDash(p.DeliveriesPerS, thousands(p.DeliveriesPerS)),
		pointText(p.DeliveriesAt, "subscribers", "deliveries/s"))
	d.row("gateway CPU at that load", orDash(p.CPUCoresAtDeliveries, cores(p.CPUCoresAtDeliveries)+" cores"), p.CPUFrom)
	d.row("deliveries per CPU core", orDash(p.DeliveriesPerCPUCore, thousands(p.DeliveriesPerCPUCore)), "")
	d.row("connections per pod", orDash(float64(p.Connections), thousands(float64(p.Connections))),
		pointText(p.ConnectionsAt, "connections", "connections"))
	d.row("RSS per idle connection", orDash(float64(p.RSSPerConnection), thousands(float64(p.RSSPerConnection))+" B"), "")
	d.p("")
	d.references()
}

func orDash(v float64, s string) string {
	if v <= 0 {
		return "not measured"
	}
	return s
}

// pointText says where a capacity figure was measured and how firm it is:
// conns names the run's connections, unit its load.
func pointText(at *loadPoint, conns, unit string) string {
	if at == nil {
		return "no run met every objective with a known load per pod"
	}
	s := fmt.Sprintf("%s %s with %s %s, p99 %s (%s)", at.Tool, at.Scenario, thousands(float64(at.Conns)), conns,
		ms(at.P99Ms), at.Source)
	if at.PodShare != 1 {
		s += fmt.Sprintf("; per pod: %.0f %% of the run's load, %s", at.PodShare*100, at.ShareFrom)
	}
	if at.Bound == "bracketed" {
		return s + fmt.Sprintf("; bracketed: the next load tested, %s %s per pod (%s), missed the objectives",
			thousands(at.NextLoad), unit, at.NextSource)
	}
	return s + "; a lower bound: no higher load was tested"
}

func (d *doc) references() {
	if len(d.cap.References) == 0 {
		return
	}
	d.p("### Figures in use")
	d.p("")
	d.p("Figures elsewhere in the repository that should follow the measured capacity. A difference is " +
		"reported here, not changed automatically: update the figure, or find out why the capacity moved.")
	d.p("")
	d.header("file", "figure", "value", "measured", "status")
	for _, r := range d.cap.References {
		d.row("`"+r.File+"`", "`"+r.Name+"`", figureText(r.Value), figureText(r.Measured), r.Status)
	}
	d.p("")
}

// figureText shows a figure as people write it: 100,000 or 0.867.
func figureText(v float64) string {
	if math.Abs(v) >= 1000 {
		return thousands(v)
	}
	return trimZeros(round3(v))
}
