package main

import (
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wsgateway/wsgateway/loadtest/quiet"
)

// clusterConfig is the flags of -suite cluster, the knobs that were
// cluster-bench.sh's environment.
type clusterConfig struct {
	parts         string // which parts run, separated by spaces
	points        string // TOPOLOGY:SUBSCRIBERSxRATE list; replaces latency, sweep, single and inproc
	latencyPoints string
	singleRates   string
	periodicConns int
	periodic      time.Duration
	quiet         quiet.Config
	pprofSeconds  int
	profileDir    string
}

func (c *clusterConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&c.parts, "parts", "periodic latency sweep single inproc", "cluster: the parts to run (see docs/benchmarks.md)")
	fs.StringVar(&c.points, "points", "", "cluster: TOPOLOGY:SUBSCRIBERSxRATE list run in order (cross, single or inproc), instead of the latency, sweep, single and inproc parts")
	fs.StringVar(&c.latencyPoints, "latency-points", "500x20 1000x10", "cluster latency part: SUBSCRIBERSxRATE points, across nodes")
	fs.StringVar(&c.singleRates, "single-rates", "20", "cluster single part: rates with -conns subscribers, one node through Redis")
	fs.IntVar(&c.periodicConns, "periodic-conns", 5000, "cluster periodic part: idle subscribers on node B")
	fs.DurationVar(&c.periodic, "periodic", 30*time.Second, "cluster periodic part: how long the Redis traffic of idle subscribers is counted")
	c.quiet.Register(fs, "cluster", "before each run")
	fs.IntVar(&c.pprofSeconds, "pprof-seconds", 0, "cluster: CPU-profile the nodes of every run for this many seconds from the window's start (keep it under -duration); 0: none")
	fs.StringVar(&c.profileDir, "profile-dir", "", "cluster: where the profiles go (default: a new temporary directory)")
}

// has reports whether part is one of -parts.
func (c *clusterConfig) has(part string) bool {
	return slices.Contains(strings.Fields(c.parts), part)
}

// point is one fan-out run of the cluster suite.
type point struct {
	topo string // cross, single or inproc
	subs int
	rate string // as written, for the label; parsed by rateValue
}

// label names the run in the summary line, as cluster-bench.sh did.
func (p point) label() string {
	size := fmt.Sprintf("%dx%s", p.subs, p.rate)
	switch p.topo {
	case "cross":
		return "cross-node " + size
	case "single":
		return "one node via redis " + size
	}
	return "in-process " + size
}

// nodes names the node with the subscribers and the one with the publisher.
func (p point) nodes() (sub, pub string) {
	switch p.topo {
	case "cross":
		return "B", "A"
	case "single":
		return "A", "A"
	}
	return "C", "C"
}

// plan is the list of points: -points, or the parts' points. Every latency
// and sweep point across nodes is followed by the same point in process
// when the inproc part runs, so that both meet the same machine.
func (c *clusterConfig) plan(conns int, rates []float64) ([]point, error) {
	if c.points != "" {
		return parsePoints(strings.Fields(c.points))
	}
	var list []string
	pair := func(size string) {
		list = append(list, "cross:"+size)
		if c.has("inproc") {
			list = append(list, "inproc:"+size)
		}
	}
	if c.has("latency") {
		for _, size := range strings.Fields(c.latencyPoints) {
			pair(size)
		}
	}
	if c.has("sweep") {
		for _, r := range rates {
			pair(fmt.Sprintf("%dx%s", conns, strconv.FormatFloat(r, 'f', -1, 64)))
		}
	}
	if c.has("single") {
		for _, r := range strings.Fields(c.singleRates) {
			list = append(list, fmt.Sprintf("single:%dx%s", conns, r))
		}
	}
	return parsePoints(list)
}

// parsePoints reads TOPOLOGY:SUBSCRIBERSxRATE items.
func parsePoints(items []string) ([]point, error) {
	var ps []point
	for _, it := range items {
		topo, size, _ := strings.Cut(it, ":")
		subs, rate, ok := strings.Cut(size, "x")
		n, err := strconv.Atoi(subs)
		r, rerr := strconv.ParseFloat(rate, 64)
		if !ok || err != nil || rerr != nil || n <= 0 || r <= 0 || !slices.Contains([]string{"cross", "single", "inproc"}, topo) {
			return nil, fmt.Errorf("point %q: want TOPOLOGY:SUBSCRIBERSxRATE, TOPOLOGY cross, single or inproc", it)
		}
		ps = append(ps, point{topo: topo, subs: n, rate: rate})
	}
	return ps, nil
}

// rateValue is the point's rate; plan has checked that it parses.
func (p point) rateValue() float64 {
	r, _ := strconv.ParseFloat(p.rate, 64)
	return r
}
