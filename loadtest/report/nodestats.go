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
// and its last connection count.
type nodeStats struct {
	Node                 string
	Peak, PeakSubs, Last float64
}

func (s *nodeSeries) stats() []nodeStats {
	var out []nodeStats
	for _, n := range s.nodes() {
		st := nodeStats{Node: n}
		for _, x := range s.Samples {
			if x.Node == n {
				st.Peak, st.PeakSubs, st.Last = max(st.Peak, x.Connections), max(st.PeakSubs, x.Subscriptions), x.Connections
			}
		}
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

// busiestShare is the busiest node's share of the load: its peak
// subscriptions (connections when subscriptions were not sampled) over the
// sum of every node's peak. A fan-out node delivers to its own subscribers,
// so this is also its share of the deliveries. 0 when nothing was sampled.
func (s *nodeSeries) busiestShare() float64 {
	var most, sum, mostConns, sumConns float64
	for _, st := range s.stats() {
		most, sum = max(most, st.PeakSubs), sum+st.PeakSubs
		mostConns, sumConns = max(mostConns, st.Peak), sumConns+st.Peak
	}
	switch {
	case sum > 0:
		return most / sum
	case sumConns > 0:
		return mostConns / sumConns
	}
	return 0
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
