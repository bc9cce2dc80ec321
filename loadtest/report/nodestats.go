package main

import (
	"slices"
	"strings"
)

// start is the time the series' seconds count from: its first record.
func (s *nodeSeries) start() float64 {
	t := 0.0
	if len(s.Samples) > 0 {
		t = s.Samples[0].TMs
	}
	if len(s.Events) > 0 && (len(s.Samples) == 0 || s.Events[0].TMs < t) {
		t = s.Events[0].TMs
	}
	return t
}

// nodes lists the node names, sorted.
func (s *nodeSeries) nodes() []string {
	var out []string
	for _, x := range s.Samples {
		if !slices.Contains(out, x.Node) {
			out = append(out, x.Node)
		}
	}
	slices.SortFunc(out, strings.Compare)
	return out
}

// nodeStats summarises one node: its most connections and subscriptions,
// its last connection count, and the CPU cores it used while loaded.
type nodeStats struct {
	Node                 string
	Peak, PeakSubs, Last float64
	Cores                float64 // 0: cpu_seconds not sampled (nodecpu.go)
}

func (s *nodeSeries) stats() []nodeStats {
	var out []nodeStats
	for _, n := range s.nodes() {
		st := nodeStats{Node: n}
		var samples []nodeSample
		for _, x := range s.Samples {
			if x.Node == n {
				st.Peak, st.PeakSubs, st.Last = max(st.Peak, x.Connections), max(st.PeakSubs, x.Subscriptions), x.Connections
				samples = append(samples, x)
			}
		}
		st.Cores = loadedCores(samples)
		out = append(out, st)
	}
	return out
}

// peak is the most connections any one node held.
func (s *nodeSeries) peak() int {
	p := 0.0
	for _, x := range s.Samples {
		p = max(p, x.Connections)
	}
	return int(p)
}

// busiest is the node with the largest share of the load, and that share:
// its peak subscriptions (connections when subscriptions were not sampled)
// over the sum of every node's peak. A fan-out node delivers to its own
// subscribers, so this is also its share of the deliveries. Of nodes that
// tie, the one that used more CPU: per-pod figures are what the hardest
// working pod managed. A zero share: nothing was sampled.
func (s *nodeSeries) busiest() (nodeStats, float64) {
	stats := s.stats()
	load := func(st nodeStats) float64 { return st.Peak }
	for _, st := range stats {
		if st.PeakSubs > 0 {
			load = func(st nodeStats) float64 { return st.PeakSubs }
			break
		}
	}
	var most nodeStats
	var sum float64
	for _, st := range stats {
		if l := load(st); l > load(most) || l == load(most) && st.Cores > most.Cores {
			most = st
		}
		sum += load(st)
	}
	if sum == 0 {
		return nodeStats{}, 0
	}
	return most, load(most) / sum
}

// busiestShare is the busiest node's share of the load (busiest).
func (s *nodeSeries) busiestShare() float64 {
	_, share := s.busiest()
	return share
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
