package main

import (
	"fmt"
	"math"
	"slices"
)

// capacity is capacity.json: the per-pod capacity at the objectives, the
// figure the Grafana capacity dashboard's reference lines and the HPA's
// connection target are derived from (doc.go).
type capacity struct {
	Verdict    string      `json:"verdict"` // PASS: every objective met
	Objectives objectives  `json:"objectives"`
	PerPod     perPod      `json:"per_pod"`
	References []reference `json:"references"`
	Inputs     []string    `json:"inputs"`
}

// perPod is what one gateway pod handled while meeting every objective.
// A zero figure was not measured.
type perPod struct {
	DeliveriesPerS       float64    `json:"deliveries_per_s"`
	DeliveriesAt         *loadPoint `json:"deliveries_at,omitempty"`
	CPUCoresAtDeliveries float64    `json:"cpu_cores_at_deliveries"`
	CPUFrom              string     `json:"cpu_from,omitempty"` // where that CPU figure was read
	DeliveriesPerCPUCore float64    `json:"deliveries_per_cpu_core"`
	Connections          int        `json:"connections"`
	ConnectionsAt        *loadPoint `json:"connections_at,omitempty"`
	RSSPerConnection     int64      `json:"rss_per_connection_bytes"`
}

// loadPoint is the run a capacity figure comes from, and how firmly it
// bounds the capacity.
type loadPoint struct {
	Tool     string  `json:"tool"`
	Source   string  `json:"source"`
	Scenario string  `json:"scenario"`
	Conns    int     `json:"connections"`
	P99Ms    float64 `json:"p99_ms"`
	// PodShare is the busiest pod's share of the run's load (1: the run
	// loaded one node), and ShareFrom where that share comes from.
	PodShare  float64 `json:"pod_share"`
	ShareFrom string  `json:"share_from"`
	// Bound is "lower bound" when no higher load was tested, or
	// "bracketed" when the next higher load tested missed an objective.
	Bound string `json:"bound"`
	// NextLoad is that next load (deliveries/s or connections) and its p99.
	NextLoad   float64 `json:"next_load,omitempty"`
	NextP99Ms  float64 `json:"next_p99_ms,omitempty"`
	NextSource string  `json:"next_source,omitempty"`
}

// perPodCapacity picks the highest load one pod carried within every
// objective, from the runs whose share of load per pod is known.
func perPodCapacity(runs []*loadRun, ev evaluation) perPod {
	var p perPod
	podDeliveries := func(r *loadRun) float64 {
		share, _ := r.podShare()
		return r.DeliveriesPerS * share
	}
	deliveryCand := func(r *loadRun) bool { return r.Delivery != nil && podDeliveries(r) > 0 }
	deliveryOK := func(r *loadRun) bool {
		return ev.Delivery[r] == pass && r.OffsetsChecked && r.Lost == 0 && r.Duplicated == 0 &&
			len(r.Problems) == 0 && len(r.FailedThresholds) == 0
	}
	if best, at := bestLoad(runs, deliveryCand, deliveryOK, podDeliveries, func(r *loadRun) *dist { return r.Delivery }); best != nil {
		p.DeliveriesPerS, p.DeliveriesAt = podDeliveries(best), at
		if cores, from := podCPU(best); cores > 0 {
			p.CPUCoresAtDeliveries, p.CPUFrom = round4(cores), from
			p.DeliveriesPerCPUCore = math.Round(p.DeliveriesPerS / cores)
		}
	}
	connCand := func(r *loadRun) bool {
		return (r.Scenario == "idle" || r.Scenario == "connect-storm") && r.perPodConns() > 0 && r.Setup != nil
	}
	connOK := func(r *loadRun) bool {
		return ev.Setup[r] == pass && len(r.Problems) == 0 && len(r.FailedThresholds) == 0
	}
	podConns := func(r *loadRun) float64 { return float64(r.perPodConns()) }
	if best, at := bestLoad(runs, connCand, connOK, podConns, func(r *loadRun) *dist { return r.Setup }); best != nil {
		p.Connections, p.ConnectionsAt = best.perPodConns(), at
		p.RSSPerConnection = best.RSSPerConn
	}
	if p.RSSPerConnection == 0 {
		p.RSSPerConnection = largestIdleRSS(runs)
	}
	return p
}

// podCPU is the CPU cores of the pod whose deliveries a run's per-pod
// figure counts, and where they were read; 0 when not measured. It must be
// the node podShare counts: the one node of a single-node run, else the
// busiest node of the run's series.
func podCPU(r *loadRun) (cores float64, from string) {
	if r.Nodes == 1 && r.ServerCPU > 0 { // wsbench reads the CPU of the one node it loads
		return r.ServerCPU, "wsbench's reading of the node"
	}
	if r.Series != nil {
		if st, share := r.Series.busiest(); share > 0 && st.Cores > 0 {
			return st.Cores, fmt.Sprintf("%s's cpu_seconds in %s (the busiest node) while it held connections",
				st.Node, r.Series.Source)
		}
	}
	return 0, ""
}

// round4 keeps a node series' CPU cores readable: cpu_seconds counts in
// 10 ms steps, so further decimals are noise, and four still show the
// hundredths of a core that a smoke run's light load uses.
func round4(v float64) float64 {
	return math.Round(v*1e4) / 1e4
}

// bestLoad returns the candidate with the highest load that is ok, and
// where that load sits: the next higher candidate load that is not ok
// brackets it.
func bestLoad(runs []*loadRun, candidate, ok func(*loadRun) bool, load func(*loadRun) float64,
	dist func(*loadRun) *dist) (*loadRun, *loadPoint) {
	var cands []*loadRun
	for _, r := range runs {
		if candidate(r) {
			cands = append(cands, r)
		}
	}
	slices.SortStableFunc(cands, func(a, b *loadRun) int { return cmpFloat(load(a), load(b)) })
	best := -1
	for i, r := range cands {
		if ok(r) {
			best = i
		}
	}
	if best < 0 {
		return nil, nil
	}
	b := cands[best]
	share, from := b.podShare()
	at := &loadPoint{Tool: b.Tool, Source: b.Source, Scenario: b.Scenario, Conns: b.Conns,
		P99Ms: finite(dist(b).P99), Bound: "lower bound", PodShare: share, ShareFrom: from}
	for _, r := range cands[best+1:] {
		if load(r) > load(b) {
			at.Bound, at.NextLoad, at.NextP99Ms, at.NextSource = "bracketed", load(r), finite(dist(r).P99), r.Source
			break
		}
	}
	return b, at
}

// largestIdleRSS is the RSS per connection measured by the largest idle run.
func largestIdleRSS(runs []*loadRun) int64 {
	var rss int64
	most := 0
	for _, r := range runs {
		if r.RSSPerConn > 0 && r.Conns > most {
			rss, most = r.RSSPerConn, r.Conns
		}
	}
	return rss
}

// finite maps NaN (unknown), which JSON cannot hold, to 0.
func finite(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}
