package main

import (
	"fmt"
	"math"
)

// dist is a latency distribution in milliseconds, as a load tool summarised
// it. A missing percentile is NaN.
type dist struct {
	Count              float64
	P50, P95, P99, Max float64
}

// loadRun is one measurement: one k6 summary or one wsbench line.
type loadRun struct {
	Tool     string // "k6" or "wsbench"
	Source   string // file, and line for wsbench: "fanout.jsonl:3"
	Name     string // the run's own name (k6: the summary's name, e.g. connect-storm-2000)
	Scenario string // the scenario it ran: connect-storm, fanout, reconnect-storm, soak, idle

	// Conns is the connections the run held at once (connect-storm, idle)
	// or its subscribers (fanout).
	Conns int
	// Nodes is how many gateway nodes shared the run's load (0: unknown):
	// wsbench runs of the bench scripts go to one node, make loadtest's
	// runs through the load balancer to the cluster (manifest.json).
	Nodes int
	// Series is the run's node series, when the orchestration sampled one.
	Series *nodeSeries

	Setup          *dist // connection setup: dial to the connect reply
	Delivery       *dist // delivery latency: publish to receipt
	DeliveriesPerS float64
	Recovery       *dist // reconnect storm: close to recovered subscription

	// OffsetsChecked says the run counted lost and duplicated offsets.
	OffsetsChecked   bool
	Lost, Duplicated int64

	ServerCPU  float64 // gateway CPU cores during the measurement (0: unknown)
	RSSPerConn int64   // gateway RSS per idle connection, bytes (0: unknown)
	DurationS  float64

	// Thresholds and FailedThresholds are the k6 thresholds it checked and
	// those that failed ("metric: expression").
	Thresholds       int
	FailedThresholds []string
	// Problems are what made the run incomplete: a wsbench error, failed
	// connections or publishes.
	Problems []string
	// Derived are extra figures the k6 scenario computed, by name.
	Derived []figure
}

// figure is a named number (or text) shown as it is.
type figure struct {
	Name  string
	Value string
}

// podShare is the busiest pod's share of the run's load: from the node
// series when there is one, else an even split over its nodes; 0 unknown.
func (r *loadRun) podShare() (share float64, from string) {
	if r.Series != nil {
		if s := r.Series.busiestShare(); s > 0 {
			return s, "the busiest node's share in " + r.Series.Source
		}
	}
	switch {
	case r.Nodes == 1:
		return 1, "one node"
	case r.Nodes > 1:
		return 1 / float64(r.Nodes), fmt.Sprintf("an even split over %d nodes", r.Nodes)
	}
	return 0, ""
}

// perPodConns is the most connections one pod held in the run: the node
// series' peak when sampled, else its share of the run's; 0 unknown.
func (r *loadRun) perPodConns() int {
	if r.Series != nil && r.Series.peak() > 0 {
		return r.Series.peak()
	}
	share, _ := r.podShare()
	return int(math.Round(float64(r.Conns) * share))
}
