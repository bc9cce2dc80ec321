package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

// errTimeout is the cause of a run cut short by -timeout.
var errTimeout = errors.New("-timeout reached")

// run is the whole program; it returns the exit code: 0 when the scenario
// ran to its end, 1 when it was cut short (the JSON line is still printed,
// with "error"), 2 for bad flags.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "wsbench:", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cfg.suite != "" {
		return runSuite(ctx, log, cfg, stdout, stderr)
	}
	return emit(stdout, log, runScenario(ctx, log, cfg))
}

// outcome is one scenario's JSON line and whether it was cut short.
type outcome struct {
	res    any
	failed bool
}

// runScenario runs cfg.scenario once, bounded by -timeout.
func runScenario(ctx context.Context, log *slog.Logger, cfg config) outcome {
	ctx, cancel := context.WithTimeoutCause(ctx, cfg.timeout, errTimeout)
	defer cancel()
	if cfg.scenario == "idle" {
		r := runIdle(ctx, log, cfg)
		return outcome{r, r.Error != ""}
	}
	r := runFanout(ctx, log, cfg)
	return outcome{r, r.Error != ""}
}

// emit prints the JSON line and returns the exit code: 1 when the run was
// cut short or the line could not be written.
func emit(stdout io.Writer, log *slog.Logger, o outcome) int {
	if err := json.NewEncoder(stdout).Encode(o.res); err != nil {
		log.Error("write result", "err", err)
		return 1
	}
	if o.failed {
		return 1
	}
	return 0
}

// startProfile starts this process's CPU profile into path ("" for none)
// and returns what stops it. A profile that cannot start is logged, not
// fatal: the measurement matters more.
func startProfile(log *slog.Logger, path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		log.Warn("no CPU profile", "err", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		log.Warn("no CPU profile", "err", err)
		return func() {}
	}
	var stopped bool
	return func() {
		if !stopped {
			stopped = true
			pprof.StopCPUProfile()
			f.Close()
		}
	}
}
