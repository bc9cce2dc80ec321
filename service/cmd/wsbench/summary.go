package main

import (
	"maps"
	"math"
	"strconv"
)

// ownCommands are what the snapshots send to Redis at every reading; they
// are left out of the counts. (The client's HELLO comes once, before the
// first reading counts anything.)
var ownCommands = map[string]bool{"info": true}

// pointSummary is the {"commandstats": ...} line after a run through Redis:
// the calls Redis counted during the measured window, per publication and
// per delivery, the round trips each node made, by op, and the CPU of the
// nodes and of redis-server. The field names are those docs/benchmarks.md
// quotes.
type pointSummary struct {
	Label          string  `json:"commandstats"`
	SubscriberNode string  `json:"subscriber_node"`
	PublisherNode  string  `json:"publisher_node"`
	Subscribers    int     `json:"subscribers"`
	Rate           float64 `json:"rate"`
	LoadAvg        float64 `json:"load_avg_at_start"`
	Quiet          bool    `json:"quiet"`
	WindowSeconds  float64 `json:"window_s"`
	Publications   int64   `json:"publications"`
	Deliveries     int64   `json:"deliveries"`
	Error          string  `json:"error,omitempty"`
	*windowDetail          // nil when nothing was published in the window
}

// windowDetail is the part of a summary that needs publications.
type windowDetail struct {
	EvalshaPerPub      float64                       `json:"evalsha_per_publication"`
	EvalshaUsec        float64                       `json:"evalsha_usec_per_call"`
	PublishTripsPerPub float64                       `json:"publish_round_trips_per_publication"`
	OtherTrips         int64                         `json:"other_round_trips_window"`
	SubTrips           int64                         `json:"subscriber_node_round_trips_window"`
	SubTripsPerDeliv   float64                       `json:"subscriber_node_round_trips_per_delivery"`
	CallsWindow        map[string]float64            `json:"redis_calls_window"`
	CallsPerPub        map[string]float64            `json:"redis_calls_per_publication"`
	CallsPerDeliv      map[string]float64            `json:"redis_calls_per_delivery"`
	TripsWindow        map[string]map[string]float64 `json:"round_trips_window"`
	TripMsMean         map[string]map[string]float64 `json:"round_trip_ms_mean_window"`
	CPU                map[string]float64            `json:"cpu_cores_window"`
	CallsRun           map[string]float64            `json:"redis_calls_run"`
}

// periodicSummary is the {"periodic": ...} line: the same counts per second
// while idle subscribers are held and nothing is published.
type periodicSummary struct {
	Label       string                        `json:"periodic"`
	Subscribers int                           `json:"subscribers"`
	LoadAvg     float64                       `json:"load_avg_at_start"`
	Quiet       bool                          `json:"quiet"`
	Seconds     float64                       `json:"seconds"`
	CallsPerS   map[string]float64            `json:"redis_calls_per_s"`
	TripsPerS   map[string]map[string]float64 `json:"round_trips_per_s"`
	TripMsMean  map[string]map[string]float64 `json:"round_trip_ms_mean"`
	CPU         map[string]float64            `json:"cpu_cores"`
}

// summarize fills the window fields of p from the window's snapshots (w0,
// w1) and the whole run's (r0, r1).
func summarize(p *pointSummary, names []string, w0, w1, r0, r1 snapshot) {
	dt := w1.at.Sub(w0.at).Seconds()
	calls := delta(w0.calls, w1.calls)
	pubs := calls["publish"] + calls["spublish"] // one PUBLISH per run of the publish script
	evals := calls["evalsha"] + calls["eval"]
	deliv := pubs * float64(p.Subscribers)
	p.WindowSeconds, p.Publications, p.Deliveries = round3(dt), int64(pubs), int64(deliv)
	if pubs == 0 {
		p.Error = "no publication in the window"
		return
	}
	usec := delta(w0.usec, w1.usec)
	trips := map[string]map[string]float64{}
	var other, sub float64
	for _, n := range names {
		trips[n] = delta(w0.ops[n], w1.ops[n])
		for op, v := range trips[n] {
			if n == p.PublisherNode && op == "publish" {
				continue // the API's publishes, counted apart
			}
			other += v
			if n == p.SubscriberNode {
				sub += v
			}
		}
	}
	d := &windowDetail{
		EvalshaPerPub: num(evals / pubs), PublishTripsPerPub: num(trips[p.PublisherNode]["publish"] / pubs),
		OtherTrips: int64(other), SubTrips: int64(sub), SubTripsPerDeliv: num(sub / deliv),
		CallsWindow: scaled(calls, 1), CallsPerPub: scaled(calls, pubs), CallsPerDeliv: scaled(calls, deliv),
		TripsWindow: perNode(trips, 1), TripMsMean: meanMs(names, w0, w1), CPU: cpuCores(names, w0, w1),
		CallsRun: scaled(delta(r0.calls, r1.calls), 1),
	}
	if evals > 0 {
		d.EvalshaUsec = num((usec["evalsha"] + usec["eval"]) / evals)
	}
	p.windowDetail = d
}

// summarizePeriodic fills the per-second counts of p.
func summarizePeriodic(p *periodicSummary, names []string, s0, s1 snapshot) {
	dt := s1.at.Sub(s0.at).Seconds()
	trips := map[string]map[string]float64{}
	for _, n := range names {
		trips[n] = delta(s0.ops[n], s1.ops[n])
	}
	p.Seconds, p.CallsPerS = round3(dt), scaled(delta(s0.calls, s1.calls), dt)
	p.TripsPerS, p.TripMsMean, p.CPU = perNode(trips, dt), meanMs(names, s0, s1), cpuCores(names, s0, s1)
}

// delta is b - a for every key of either, without the snapshots' own commands.
func delta(a, b map[string]float64) map[string]float64 {
	d := map[string]float64{}
	for k := range maps.Keys(b) {
		if !ownCommands[k] {
			d[k] = b[k] - a[k]
		}
	}
	return d
}

// scaled is every non-zero value of d divided by by.
func scaled(d map[string]float64, by float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range d {
		if v != 0 {
			out[k] = num(v / by)
		}
	}
	return out
}

func perNode(trips map[string]map[string]float64, by float64) map[string]map[string]float64 {
	out := map[string]map[string]float64{}
	for n, d := range trips {
		out[n] = scaled(d, by)
	}
	return out
}

// meanMs is the mean milliseconds per round trip, by node and op.
func meanMs(names []string, a, b snapshot) map[string]map[string]float64 {
	out := map[string]map[string]float64{}
	for _, n := range names {
		out[n] = map[string]float64{}
		secs := delta(a.opSec[n], b.opSec[n])
		for op, count := range delta(a.ops[n], b.ops[n]) {
			if count > 0 {
				out[n][op] = num(secs[op] / count * 1000)
			}
		}
	}
	return out
}

// cpuCores is the CPU of each node and of redis-server, in cores.
func cpuCores(names []string, a, b snapshot) map[string]float64 {
	dt := b.at.Sub(a.at)
	out := map[string]float64{}
	for _, n := range append(append([]string(nil), names...), "redis") {
		out[n] = round3(float64(b.cpu[n]-a.cpu[n]) / float64(dt))
	}
	return out
}

// num is x as cluster-bench.sh printed it: integers as such, others to 4
// significant digits.
func num(x float64) float64 {
	if x == math.Trunc(x) && math.Abs(x) < 1e15 {
		return x
	}
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 4, 64), 64)
	return v
}
