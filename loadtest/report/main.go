package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK     = 0
	exitError  = 1 // bad flags or input: no report written
	exitMissed = 3 // -check, and an objective was missed (the report is written)
)

// config is the command line.
type config struct {
	in, out  string
	obj      objectives
	check    bool
	stdout   io.Writer
	warnings io.Writer
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	c := config{warnings: stderr}
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./loadtest/report [-in DIR] [-out DIR] [flags]")
		fs.PrintDefaults()
	}
	fs.StringVar(&c.in, "in", "loadtest/results", "directory of k6 summaries (*.json), wsbench lines (*.jsonl) and node series (*-nodes.csv)")
	fs.StringVar(&c.out, "out", "", "directory for report.md, capacity.json and the SVG charts (default: -in)")
	fs.Float64Var(&c.obj.SetupP99Ms, "setup-p99", 50, "objective: connection setup p99 under this many ms")
	fs.Float64Var(&c.obj.DeliveryP99Ms, "delivery-p99", 100, "objective: delivery p99 under this many ms")
	fs.BoolVar(&c.check, "check", false, fmt.Sprintf("exit %d when an objective is missed", exitMissed))
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if c.out == "" {
		c.out = c.in
	}
	return c, nil
}

// run is the whole program; it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "report:", err)
		return exitError
	}
	c.stdout = stdout
	pass, err := c.write()
	if err != nil {
		fmt.Fprintln(stderr, "report:", err)
		return exitError
	}
	if !pass && c.check {
		return exitMissed
	}
	return exitOK
}

// write reads the results, evaluates them and writes every output file.
func (c config) write() (pass bool, err error) {
	res, err := load(c.in, c.warnings)
	if err != nil {
		return false, err
	}
	ev := evaluate(c.obj, res.Runs)
	cp := capacity{Verdict: "FAIL", Objectives: c.obj, PerPod: perPodCapacity(res.Runs, ev), Inputs: res.Files}
	if ev.Pass() {
		cp.Verdict = "PASS"
	}
	cp.References = compareFigures(cp.PerPod)
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return false, err
	}
	charts, err := writeCharts(c.out, res, c.obj)
	if err != nil {
		return false, err
	}
	d := &doc{res: res, ev: ev, cap: cp, charts: charts, inDir: c.in}
	capJSON, err := json.MarshalIndent(cp, "", "  ")
	if err != nil {
		return false, err
	}
	if err := writeFile(c.out, "capacity.json", append(capJSON, '\n')); err != nil {
		return false, err
	}
	if err := writeFile(c.out, "report.md", []byte(d.markdown())); err != nil {
		return false, err
	}
	fmt.Fprintf(c.stdout, "report: %s: %s\n", cp.Verdict, filepath.Join(c.out, "report.md"))
	return ev.Pass(), nil
}

// writeCharts writes every chart that has data; it returns their names.
func writeCharts(dir string, res *results, o objectives) (map[string]bool, error) {
	out := map[string]bool{}
	charts := map[string]chart{}
	if c, ok := setupChart(res.Runs, o); ok {
		charts[setupChartFile] = c
	}
	if c, ok := deliveryChart(res.Runs, o); ok {
		charts[deliveryChartFile] = c
	}
	for _, s := range res.Series {
		charts[nodesChartFile(s)] = nodesChart(s)
	}
	for name, c := range charts {
		svg, err := c.svg()
		if err != nil {
			return nil, err
		}
		if err := writeFile(dir, name, svg); err != nil {
			return nil, err
		}
		out[name] = true
	}
	return out, nil
}

func writeFile(dir, name string, data []byte) error {
	return os.WriteFile(filepath.Join(dir, name), data, 0o644)
}
