package main

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// nodeSeries is each gateway node's connections over a run, sampled by the
// orchestration while the run went on: <run>-nodes.csv (the format is in
// doc.go).
type nodeSeries struct {
	Run        string // the run it belongs to: the file name without -nodes.csv
	Source     string
	Samples    []nodeSample // by time, then node
	Events     []nodeEvent
	Skipped    int // unreadable lines (a sampler stopped while writing)
	Unanswered int // samples of a node that did not answer (down, or killed)
}

type nodeSample struct {
	TMs           float64 // milliseconds since the Unix epoch
	Node          string
	Connections   float64
	Subscriptions float64 // 0: not sampled
	// CPUSeconds is the node's process_cpu_seconds_total: cumulative, so
	// only differences between samples mean anything. 0: not sampled.
	CPUSeconds float64
}

// nodeEvent is a fault injected during the run (manifest.json), marked on
// the series' chart.
type nodeEvent struct {
	TMs   float64 // milliseconds since the Unix epoch
	Event string
}

// seriesName returns the run a node series file belongs to, or "" when the
// file is not a node series.
func seriesName(file string) string {
	if run, ok := strings.CutSuffix(file, "-nodes.csv"); ok {
		return run
	}
	return ""
}

func parseNodes(name string, data []byte) (*nodeSeries, error) {
	s := &nodeSeries{Run: seriesName(name), Source: name}
	if err := s.readCSV(data); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	s.sort()
	return s, nil
}

// readCSV reads loadtest/run's samples: a header naming the columns,
// of which unix_s (seconds, with decimals), node and connections are needed
// and subscriptions and cpu_seconds are used: files from before either
// column was added still read. A node that did not answer has empty fields.
func (s *nodeSeries) readCSV(data []byte) error {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return fmt.Errorf("no header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	for _, need := range []string{"unix_s", "node", "connections"} {
		if _, ok := col[need]; !ok {
			return fmt.Errorf("no %q column in %q", need, strings.Join(header, ","))
		}
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			s.Skipped++ // a line cut short when the sampler was stopped
			continue
		}
		switch x, ok := csvSample(rec, col); {
		case ok:
			s.Samples = append(s.Samples, x)
		case len(rec) > col["node"] && rec[col["node"]] != "":
			s.Unanswered++
		default:
			s.Skipped++
		}
	}
}

func csvSample(rec []string, col map[string]int) (nodeSample, bool) {
	field := func(name string) (float64, bool) {
		i, ok := col[name]
		if !ok || i >= len(rec) {
			return 0, false
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rec[i]), 64)
		return v, err == nil
	}
	t, okT := field("unix_s")
	c, okC := field("connections")
	if !okT || !okC || col["node"] >= len(rec) {
		return nodeSample{}, false
	}
	subs, _ := field("subscriptions")
	cpu, _ := field("cpu_seconds")
	return nodeSample{TMs: t * 1000, Node: rec[col["node"]], Connections: c, Subscriptions: subs,
		CPUSeconds: cpu}, true
}

func (s *nodeSeries) sort() {
	slices.SortStableFunc(s.Samples, func(a, b nodeSample) int {
		if a.TMs != b.TMs {
			return cmpFloat(a.TMs, b.TMs)
		}
		return strings.Compare(a.Node, b.Node)
	})
	slices.SortStableFunc(s.Events, func(a, b nodeEvent) int { return cmpFloat(a.TMs, b.TMs) })
}
