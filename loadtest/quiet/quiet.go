// Package quiet waits for an idle machine before a measurement: the load
// tools (wsbench -suite cluster, the capacity runs of loadtest/run) share
// it, so that every run starts under the same rule.
package quiet

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"
)

// Config says when the machine counts as quiet.
type Config struct {
	Load  float64       // the 1-minute load average must be below this
	Max   time.Duration // longest wait
	Every time.Duration // between checks
}

// Wait waits until the 1-minute load average is below q.Load. Other
// work on the machine takes CPU from the gateway and the load tool, which
// share its cores. It never fails: when the machine stays busy it says so
// and returns quiet false. load is the average the run starts at.
func Wait(ctx context.Context, log *slog.Logger, q Config) (load float64, quiet bool) {
	start := time.Now()
	for {
		load, err := LoadAverage()
		if err != nil {
			log.Warn("cannot read the load average; running anyway", "err", err)
			return 0, false
		}
		if load < q.Load {
			log.Info("quiet machine; starting", "load", load, "limit", q.Load, "waited", time.Since(start).Round(time.Second))
			return load, true
		}
		if time.Since(start) >= q.Max || ctx.Err() != nil {
			log.Warn("machine still busy; running anyway, figures may be disturbed", "load", load, "limit", q.Load, "waited", q.Max)
			return load, false
		}
		log.Info("machine busy; waiting", "load", load, "limit", q.Load, "for", q.Every)
		t := time.NewTimer(q.Every)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
}

// LoadAverage is the first field of /proc/loadavg.
func LoadAverage() (float64, error) {
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

// Register declares -quiet-load, -quiet-max and -quiet-every on fs, with
// the defaults every load tool uses; tool prefixes their help ("cluster")
// and when says which runs wait ("before each run").
func (q *Config) Register(fs *flag.FlagSet, tool, when string) {
	fs.Float64Var(&q.Load, "quiet-load", 0.8, tool+": "+when+", wait for a 1-minute load average below this")
	fs.DurationVar(&q.Max, "quiet-max", 10*time.Minute, tool+": longest wait for a quiet machine; then the run goes ahead, marked quiet:false")
	fs.DurationVar(&q.Every, "quiet-every", 15*time.Second, tool+": how often the load average is checked while waiting")
}
