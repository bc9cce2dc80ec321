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
	ctx, cancel := context.WithTimeoutCause(ctx, cfg.timeout, errTimeout)
	defer cancel()

	var res any
	var failed bool
	switch cfg.scenario {
	case "idle":
		r := runIdle(ctx, log, cfg)
		res, failed = r, r.Error != ""
	case "fanout":
		r := runFanout(ctx, log, cfg)
		res, failed = r, r.Error != ""
	}
	if err := json.NewEncoder(stdout).Encode(res); err != nil {
		fmt.Fprintln(stderr, "wsbench: write result:", err)
		return 1
	}
	if failed {
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
