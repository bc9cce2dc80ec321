package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// manifestFile is what loadtest/run writes about a whole make
// loadtest: the cluster, and per run its tool, files, exit status and the
// fault it injected.
const manifestFile = "manifest.json"

type manifest struct {
	Mode    string         `json:"mode"`
	Source  string         `json:"source"`
	Cluster map[string]any `json:"cluster"`
	Host    map[string]any `json:"host"`
	Runs    []manifestRun  `json:"runs"`
}

type manifestRun struct {
	Name        string   `json:"name"`
	Tool        string   `json:"tool"`
	File        string   `json:"file"`
	NodesCSV    string   `json:"nodes_csv"`
	Exit        int      `json:"exit"`
	Fault       string   `json:"fault"`
	FaultNode   string   `json:"fault_node"`
	FaultAtUnix *float64 `json:"fault_at_unix"`
}

func parseManifest(data []byte) (*manifest, error) {
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", manifestFile, err)
	}
	return &m, nil
}

// nodes is the cluster's node count; 0 when not said.
func (m *manifest) nodes() int {
	n, _ := m.Cluster["nodes"].(float64)
	return int(n)
}

// apply tells each run how many nodes served it, links it to its node
// series, marks the injected faults on the series, and records failed
// exits (other than k6's 99, failed thresholds, which the summary shows).
func (m *manifest) apply(res *results) {
	for _, mr := range m.Runs {
		series := res.series(mr.NodesCSV)
		if series != nil && mr.FaultAtUnix != nil {
			series.Events = append(series.Events, nodeEvent{TMs: *mr.FaultAtUnix * 1000,
				Event: strings.TrimSpace(mr.Fault + " " + mr.FaultNode)})
			series.sort()
		}
		for _, r := range res.Runs {
			if r.Source != mr.File && !strings.HasPrefix(r.Source, mr.File+":") {
				continue
			}
			if m.nodes() > 0 {
				r.Nodes = m.nodes()
			}
			if series != nil {
				r.Series = series
			}
			if mr.Exit != 0 && !(mr.Tool == "k6" && mr.Exit == 99) {
				r.Problems = append(r.Problems, fmt.Sprintf("%s exited %d (%s)", mr.Name, mr.Exit, manifestFile))
			}
		}
	}
}

func (res *results) series(source string) *nodeSeries {
	for _, s := range res.Series {
		if s.Source == source {
			return s
		}
	}
	return nil
}

// describe is a line about the cluster and host, for the report.
func (m *manifest) describe() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m.Cluster)) {
		parts = append(parts, fmt.Sprintf("%s %v", strings.ReplaceAll(k, "_", " "), m.Cluster[k]))
	}
	s := fmt.Sprintf("make loadtest (%s mode, source %s): %s", m.Mode, m.Source, strings.Join(parts, ", "))
	if cpus, ok := m.Host["cpus"].(float64); ok {
		s += fmt.Sprintf("; host with %.0f CPUs", cpus)
	}
	return s + "."
}
