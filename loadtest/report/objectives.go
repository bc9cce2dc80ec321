package main

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
)

// objectives are the service-level objectives the report checks
// (docs/benchmarks.md#results-against-the-targets):
// connection setup p99 under 50 ms, delivery p99 under 100 ms, and no
// publication lost (nor duplicated).
type objectives struct {
	SetupP99Ms    float64 `json:"setup_p99_ms"`
	DeliveryP99Ms float64 `json:"delivery_p99_ms"`
	Lost          int     `json:"lost"`
}

// status is one run's result against one latency objective.
type status int

const (
	notMeasured status = iota
	pass
	fail
	// over: missed, at a load above one where the same series met it. A
	// sweep finds capacity by going past it; those points bound the
	// capacity and are not a failure of the service.
	over
)

func (s status) String() string {
	return [...]string{"—", "PASS", "FAIL", "over capacity"}[s]
}

// latencyKind picks one latency objective: its distribution, load and
// target.
type latencyKind struct {
	name    string
	applies func(*loadRun) bool // the objective holds for the run's scenario
	dist    func(*loadRun) *dist
	load    func(*loadRun) float64
	series  func(*loadRun) string // runs of one series differ only in load
	target  float64
}

func setupKind(o objectives) latencyKind {
	return latencyKind{
		name:    "connection setup p99",
		applies: func(*loadRun) bool { return true },
		dist:    func(r *loadRun) *dist { return r.Setup },
		load:    func(r *loadRun) float64 { return float64(r.Conns) },
		series:  func(r *loadRun) string { return r.Tool + " " + r.Scenario },
		target:  o.SetupP99Ms,
	}
}

func deliveryKind(o objectives) latencyKind {
	return latencyKind{
		name: "delivery p99",
		// Steady load only: during a reconnect storm the pushes behind a
		// recovery are late by design; the storm has its own measures.
		applies: func(r *loadRun) bool { return r.Scenario != "reconnect-storm" },
		dist:    func(r *loadRun) *dist { return r.Delivery },
		load:    func(r *loadRun) float64 { return r.DeliveriesPerS },
		series:  func(r *loadRun) string { return fmt.Sprintf("%s %s %d subscribers", r.Tool, r.Scenario, r.Conns) },
		target:  o.DeliveryP99Ms,
	}
}

// met: the p99 is known and under the target.
func (k latencyKind) met(r *loadRun) bool {
	d := k.dist(r)
	return d != nil && !math.IsNaN(d.P99) && d.P99 < k.target
}

// statuses rates every run against the objective.
func (k latencyKind) statuses(runs []*loadRun) map[*loadRun]status {
	out := map[*loadRun]status{}
	for _, r := range runs {
		switch {
		case k.dist(r) == nil || !k.applies(r):
			out[r] = notMeasured
		case k.met(r):
			out[r] = pass
		case slices.ContainsFunc(runs, func(o *loadRun) bool {
			return k.series(o) == k.series(r) && k.load(o) < k.load(r) && k.met(o)
		}):
			out[r] = over
		default:
			out[r] = fail
		}
	}
	return out
}

// check is one row of the report's objectives table.
type check struct {
	Name, Target, Measured, Where string
	Pass                          bool
}

func (c check) Result() string {
	if c.Pass {
		return "PASS"
	}
	if c.Measured == "not measured" {
		return "NO DATA"
	}
	return "FAIL"
}

// latencyCheck: the worst p99 among the runs that count (over-capacity
// points do not), and whether every one of them met the target.
func latencyCheck(k latencyKind, runs []*loadRun, st map[*loadRun]status) check {
	c := check{Name: k.name, Target: "< " + trimZeros(k.target) + " ms", Measured: "not measured"}
	var counted []*loadRun
	overs := 0
	for _, r := range runs {
		switch st[r] {
		case pass, fail:
			counted = append(counted, r)
		case over:
			overs++
		}
	}
	if len(counted) == 0 {
		return c
	}
	worst := slices.MaxFunc(counted, func(a, b *loadRun) int { return cmpNaNHigh(k.dist(a).P99, k.dist(b).P99) })
	c.Measured = ms(k.dist(worst).P99)
	c.Where = fmt.Sprintf("worst of %s: %s (%s)", plural(len(counted), "run"), worst.Source, worst.Tool)
	if overs > 0 {
		c.Where += fmt.Sprintf("; %s over capacity not counted", plural(overs, "run"))
	}
	c.Pass = !slices.ContainsFunc(counted, func(r *loadRun) bool { return st[r] == fail })
	return c
}

// countCheck: a count that must be zero in every run that measured it.
func countCheck(name string, runs []*loadRun, count func(*loadRun) int64) check {
	c := check{Name: name, Target: "0", Measured: "not measured"}
	var total int64
	var checked int
	var bad []string
	for _, r := range runs {
		if !r.OffsetsChecked {
			continue
		}
		checked++
		total += count(r)
		if count(r) > 0 {
			bad = append(bad, fmt.Sprintf("%s: %d", r.Source, count(r)))
		}
	}
	if checked == 0 {
		return c
	}
	c.Measured = thousands(float64(total))
	c.Where = "sum over " + plural(checked, "run") + " that check offsets"
	if len(bad) > 0 {
		c.Where = strings.Join(bad, ", ")
	}
	c.Pass = total == 0
	return c
}

// k6Check: every threshold of every k6 scenario held.
func k6Check(runs []*loadRun) (check, bool) {
	c := check{Name: "k6 thresholds", Target: "all hold"}
	n, total := 0, 0
	var failed []string
	for _, r := range runs {
		if r.Tool != "k6" {
			continue
		}
		n++
		total += r.Thresholds
		for _, f := range r.FailedThresholds {
			failed = append(failed, r.Name+" "+f)
		}
	}
	if n == 0 {
		return c, false
	}
	c.Measured = fmt.Sprintf("%d of %d failed", len(failed), total)
	c.Where = plural(n, "k6 scenario")
	if len(failed) > 0 {
		c.Where = strings.Join(failed, "; ")
	}
	c.Pass = len(failed) == 0
	return c, true
}

// completeCheck: no run was cut short or lost connections or publishes.
func completeCheck(runs []*loadRun) check {
	c := check{Name: "runs complete", Target: "no errors", Measured: "0 incomplete",
		Where: plural(len(runs), "run"), Pass: true}
	var bad []string
	for _, r := range runs {
		if len(r.Problems) > 0 {
			bad = append(bad, r.Source+": "+strings.Join(r.Problems, "; "))
		}
	}
	if len(bad) > 0 {
		c.Measured = fmt.Sprintf("%d incomplete", len(bad))
		c.Where = strings.Join(bad, "; ")
		c.Pass = false
	}
	return c
}

// evaluation is the whole verdict: the rows, and every run's latency
// statuses for the detail tables.
type evaluation struct {
	Checks   []check
	Setup    map[*loadRun]status
	Delivery map[*loadRun]status
}

func evaluate(o objectives, runs []*loadRun) evaluation {
	sk, dk := setupKind(o), deliveryKind(o)
	ev := evaluation{Setup: sk.statuses(runs), Delivery: dk.statuses(runs)}
	ev.Checks = []check{
		latencyCheck(sk, runs, ev.Setup),
		latencyCheck(dk, runs, ev.Delivery),
		countCheck("publications lost", runs, func(r *loadRun) int64 { return r.Lost }),
		countCheck("publications duplicated", runs, func(r *loadRun) int64 { return r.Duplicated }),
	}
	if c, ok := k6Check(runs); ok {
		ev.Checks = append(ev.Checks, c)
	}
	ev.Checks = append(ev.Checks, completeCheck(runs))
	return ev
}

// Pass: every objective measured and met.
func (ev evaluation) Pass() bool {
	return !slices.ContainsFunc(ev.Checks, func(c check) bool { return !c.Pass })
}

// cmpNaNHigh orders numbers with NaN (unknown) above everything.
func cmpNaNHigh(a, b float64) int {
	switch {
	case math.IsNaN(a) && math.IsNaN(b):
		return 0
	case math.IsNaN(a):
		return 1
	case math.IsNaN(b):
		return -1
	}
	return cmp.Compare(a, b)
}
