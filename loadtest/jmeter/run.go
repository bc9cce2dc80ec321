package jmeter

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
)

// Run is one non-GUI JMeter run of a plan.
type Run struct {
	// Home is the JMeter home that `mvn -B -q package` in this folder
	// assembles (target/jmeter): bin/ApacheJMeter.jar and lib/.
	Home string
	// Java is the java binary; empty: "java" on PATH.
	Java string
	// Plan is the .jmx file.
	Plan string
	// Dir receives the results: the plan's JTL files (results_dir) and
	// jmeter.log. It is created when missing.
	Dir string
	// Props are the plan's properties (-Jname=value), README.md's table.
	Props map[string]string
}

// DefaultHome is where pom.xml assembles the JMeter home, given this
// folder (loadtest/jmeter).
func DefaultHome(dir string) string { return filepath.Join(dir, "target", "jmeter") }

// Execute runs JMeter and then reads its results. JMeter exits 0 when
// samplers fail, so its exit code only says whether it ran; whether the run
// passed is the returned Results' Check.
func (r Run) Execute(ctx context.Context) (*Results, error) {
	launcher, err := filepath.Abs(filepath.Join(r.Home, "bin", "ApacheJMeter.jar"))
	if err != nil {
		return nil, fmt.Errorf("jmeter: %w", err)
	}
	if _, err := os.Stat(launcher); err != nil {
		return nil, fmt.Errorf("jmeter: no JMeter home at %s (build it with `make jmeter`, or `mvn -B -q package` in loadtest/jmeter): %w", r.Home, err)
	}
	// NewDriver warns on stderr when lib/junit is missing; JMeter's own
	// distribution ships it empty.
	if err := os.MkdirAll(filepath.Join(r.Home, "lib", "junit"), 0o755); err != nil {
		return nil, fmt.Errorf("jmeter: %w", err)
	}
	dir, err := filepath.Abs(r.Dir)
	if err != nil {
		return nil, fmt.Errorf("jmeter: results dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("jmeter: results dir: %w", err)
	}
	// The plan's listeners append to existing JTL files: a fresh run starts
	// from none, so its results are its own.
	stale, _ := filepath.Glob(filepath.Join(dir, "*.jtl"))
	for _, f := range append(stale, filepath.Join(dir, LogFile)) {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("jmeter: old results: %w", err)
		}
	}
	java := r.Java
	if java == "" {
		java = "java"
	}
	cmd := exec.CommandContext(ctx, java, r.args(launcher, dir)...)
	cmd.Dir = dir // JMeter writes a few files of its own in its working directory
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("jmeter %s: %w\n%s", r.Plan, err, out)
	}
	return Read(dir)
}

// args are the java arguments of a run, properties sorted so a run's
// command line is stable in logs.
func (r Run) args(launcher, dir string) []string {
	args := []string{"-jar", launcher, "-n", "-t", r.Plan,
		"-j", filepath.Join(dir, LogFile), "-Jresults_dir=" + dir}
	names := make([]string, 0, len(r.Props))
	for k := range r.Props {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		args = append(args, "-J"+k+"="+r.Props[k])
	}
	return args
}
