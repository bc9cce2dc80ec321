package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// results is everything read from the input directory.
type results struct {
	Runs     []*loadRun    // k6 summaries in file order, then wsbench lines
	Series   []*nodeSeries // node series, by file name
	Files    []string      // the files read, for the report's list of inputs
	Manifest *manifest     // make loadtest's record of the runs; nil without one
}

// outputs are the report's own files: an input directory may be the output
// directory of an earlier run (make loadtest writes both to one place).
var outputs = map[string]bool{"capacity.json": true}

// load reads dir: k6 summaries (*.json), wsbench lines (*.jsonl), JMeter
// runs (jmeter-*/ folders), node series (*-nodes.csv) and make loadtest's
// manifest.json.
// JSON files that are not k6 summaries are skipped with a note to warn.
func load(dir string, warn io.Writer) (*results, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	res := &results{}
	var bench []*loadRun
	for _, e := range entries { // ReadDir sorts by name
		name := e.Name()
		if e.IsDir() && strings.HasPrefix(name, jmeterDir) {
			r, err := parseJMeter(dir, name)
			if err != nil {
				return nil, err
			}
			bench = append(bench, r)
			res.Files = append(res.Files, name+"/")
			continue
		}
		if e.IsDir() || outputs[name] || !(strings.HasSuffix(name, ".json") ||
			strings.HasSuffix(name, ".jsonl") || seriesName(name) != "") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		runs, err := res.read(name, data)
		if errors.Is(err, errNotSummary) {
			fmt.Fprintf(warn, "report: skipping %v\n", err)
			continue
		}
		if err != nil {
			return nil, err
		}
		bench = append(bench, runs...)
		res.Files = append(res.Files, name)
	}
	res.Runs = append(res.Runs, bench...) // the k6 runs first
	res.attachSeries()
	if res.Manifest != nil {
		res.Manifest.apply(res)
	}
	if len(res.Runs) == 0 {
		return nil, fmt.Errorf("no k6 summary (*.json) or wsbench line (*.jsonl) in %s", dir)
	}
	return res, nil
}

// read adds one input file to res; it returns the wsbench runs, which
// follow the k6 ones.
func (res *results) read(name string, data []byte) (bench []*loadRun, err error) {
	switch {
	case name == manifestFile:
		res.Manifest, err = parseManifest(data)
	case seriesName(name) != "":
		var s *nodeSeries
		if s, err = parseNodes(name, data); err == nil {
			res.Series = append(res.Series, s)
		}
	case strings.HasSuffix(name, ".jsonl"):
		bench, err = parseBench(name, data)
	default:
		var r *loadRun
		if r, err = parseK6(name, data); err == nil {
			res.Runs = append(res.Runs, r)
		}
	}
	return bench, err
}

// attachSeries links each k6 run to the node series of the same name.
// (manifest.json links the rest.)
func (res *results) attachSeries() {
	for _, s := range res.Series {
		for _, r := range res.Runs {
			if r.Tool == "k6" && (r.Name == s.Run || strings.TrimSuffix(r.Source, ".json") == s.Run) {
				r.Series = s
			}
		}
	}
}
