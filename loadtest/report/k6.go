package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// The k6 scenarios' metrics the report reads (loadtest/k6/lib/metrics.js).
const (
	metricSetup      = "wsg_setup_time"       // trend, ms: dial to connect reply
	metricDelivery   = "wsg_delivery_latency" // trend, ms: publisher's stamp to receipt
	metricDeliveries = "wsg_deliveries"       // counter: live publications received in order
	metricLost       = "wsg_lost"             // counter: offsets never received
	metricDuplicated = "wsg_duplicated"       // counter: offsets received twice
	metricHeld       = "wsg_held"             // counter: connections open at the end of the hold
	metricSubscribed = "wsg_subscribed"       // counter: clients subscribed
	metricConnects   = "wsg_connects"         // counter: connect replies
	metricRecovery   = "wsg_recovery_time"    // trend, ms: close to recovered subscribe reply
)

// k6Summary is the part of k6's handleSummary data the report reads, plus
// the "wsgateway" block that loadtest/k6/lib/summary.js adds.
type k6Summary struct {
	Metrics map[string]k6Metric `json:"metrics"`
	State   struct {
		TestRunDurationMs float64 `json:"testRunDurationMs"`
	} `json:"state"`
	Wsgateway *struct {
		Scenario string          `json:"scenario"`
		Params   map[string]any  `json:"params"`
		Derived  json.RawMessage `json:"derived"`
	} `json:"wsgateway"`
}

type k6Metric struct {
	Type       string             `json:"type"`
	Values     map[string]float64 `json:"values"`
	Thresholds map[string]struct {
		OK bool `json:"ok"`
	} `json:"thresholds"`
}

// errNotSummary: a JSON file without k6's metrics, which the report skips.
var errNotSummary = errors.New("not a k6 summary (no metrics)")

// parseK6 turns one summary file into a run; name is its file name.
func parseK6(name string, data []byte) (*loadRun, error) {
	var s k6Summary
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if s.Metrics == nil {
		return nil, fmt.Errorf("%s: %w", name, errNotSummary)
	}
	r := &loadRun{Tool: "k6", Source: name, Name: strings.TrimSuffix(name, ".json")}
	if s.Wsgateway != nil && s.Wsgateway.Scenario != "" {
		r.Name = s.Wsgateway.Scenario
	}
	r.Scenario = scenarioOf(r.Name)
	r.DurationS = s.State.TestRunDurationMs / 1000
	r.Setup = s.trend(metricSetup)
	r.Delivery = s.trend(metricDelivery)
	r.Recovery = s.trend(metricRecovery)
	r.Conns = s.firstCount(metricHeld, metricSubscribed, metricConnects)
	if lost, ok := s.count(metricLost); ok {
		dup, _ := s.count(metricDuplicated)
		r.OffsetsChecked, r.Lost, r.Duplicated = true, int64(lost), int64(dup)
	}
	r.Thresholds, r.FailedThresholds = s.thresholds()
	if s.Wsgateway != nil {
		r.Derived = figures(s.Wsgateway.Derived)
		r.DeliveriesPerS = s.deliveriesPerS(r.Derived, s.Wsgateway.Params)
	}
	return r, nil
}

// knownScenarios are the k6 scenarios; a summary named connect-storm-2000
// or reconnect-storm-kill ran the scenario its name starts with.
var knownScenarios = []string{"connect-storm", "reconnect-storm", "fanout", "soak"}

func scenarioOf(name string) string {
	for _, s := range knownScenarios {
		if name == s || strings.HasPrefix(name, s+"-") {
			return s
		}
	}
	return name
}

// trend returns a trend metric's distribution; nil without samples.
func (s *k6Summary) trend(name string) *dist {
	m, ok := s.Metrics[name]
	if !ok || m.Type != "trend" {
		return nil
	}
	v := func(keys ...string) float64 {
		for _, k := range keys {
			if x, ok := m.Values[k]; ok {
				return x
			}
		}
		return math.NaN()
	}
	d := &dist{Count: v("count"), P50: v("p(50)", "med"), P95: v("p(95)"), P99: v("p(99)"), Max: v("max")}
	if d.Count == 0 {
		return nil // no samples (k6 reports 0 for every statistic)
	}
	return d
}

func (s *k6Summary) count(name string) (float64, bool) {
	m, ok := s.Metrics[name]
	if !ok || m.Type != "counter" {
		return 0, false
	}
	return m.Values["count"], true
}

func (s *k6Summary) firstCount(names ...string) int {
	for _, n := range names {
		if c, ok := s.count(n); ok && c > 0 {
			return int(c)
		}
	}
	return 0
}

// thresholds counts the thresholds and lists the failed ones, sorted.
func (s *k6Summary) thresholds() (int, []string) {
	n := 0
	var failed []string
	for name, m := range s.Metrics {
		for expr, t := range m.Thresholds {
			n++
			if !t.OK {
				failed = append(failed, name+": "+expr)
			}
		}
	}
	slices.Sort(failed)
	return n, failed
}

// deliveriesPerS is the measured delivery rate: the scenario's own figure
// when it computed one, else the deliveries over the publishing time.
func (s *k6Summary) deliveriesPerS(derived []figure, params map[string]any) float64 {
	for _, f := range derived {
		if f.Name == "deliveries_per_s_measured" {
			if v, err := strconv.ParseFloat(f.Value, 64); err == nil {
				return v
			}
		}
	}
	n, ok := s.count(metricDeliveries)
	if !ok {
		return 0
	}
	if d, ok := params["DURATION"].(float64); ok && d > 0 {
		return n / d
	}
	return s.Metrics[metricDeliveries].Values["rate"]
}

// figures flattens a JSON object of figures, sorted by name; numbers keep
// their JSON text.
func figures(raw json.RawMessage) []figure {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	out := make([]figure, 0, len(m))
	for k, v := range m {
		out = append(out, figure{Name: k, Value: strings.Trim(string(v), `"`)})
	}
	slices.SortFunc(out, func(a, b figure) int { return strings.Compare(a.Name, b.Name) })
	return out
}
