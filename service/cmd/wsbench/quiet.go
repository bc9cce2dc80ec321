package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"
)

// quietConfig says when the machine counts as quiet.
type quietConfig struct {
	load  float64       // the 1-minute load average must be below this
	max   time.Duration // longest wait
	every time.Duration // between checks
}

// waitQuiet waits until the 1-minute load average is below q.load. Other
// work on the machine takes CPU from the gateway and the load tool, which
// share its cores. It never fails: when the machine stays busy it says so
// and returns quiet false. load is the average the run starts at.
func waitQuiet(ctx context.Context, log *slog.Logger, q quietConfig) (load float64, quiet bool) {
	start := time.Now()
	for {
		load, err := loadAverage()
		if err != nil {
			log.Warn("cannot read the load average; running anyway", "err", err)
			return 0, false
		}
		if load < q.load {
			log.Info("quiet machine; starting", "load", load, "limit", q.load, "waited", time.Since(start).Round(time.Second))
			return load, true
		}
		if time.Since(start) >= q.max || ctx.Err() != nil {
			log.Warn("machine still busy; running anyway, figures may be disturbed", "load", load, "limit", q.load, "waited", q.max)
			return load, false
		}
		log.Info("machine busy; waiting", "load", load, "limit", q.load, "for", q.every)
		_ = sleep(ctx, q.every)
	}
}

// loadAverage is the first field of /proc/loadavg.
func loadAverage() (float64, error) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, err
	}
	f := bytes.Fields(b)
	if len(f) == 0 {
		return 0, fmt.Errorf("/proc/loadavg is empty")
	}
	return strconv.ParseFloat(string(f[0]), 64)
}
