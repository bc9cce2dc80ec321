package main

import (
	"bufio"
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/gatewaytest"
)

// opFamily is the gateway's histogram of Redis round trips, by op.
const opFamily = "wsgateway_redis_op_duration_seconds"

// snapshot is one reading of the cluster's counters: what Redis counted
// (INFO commandstats, commands run inside the publish script included),
// each node's Redis round trips by op and the seconds they took, and the
// CPU time of the nodes and of redis-server.
type snapshot struct {
	at    time.Time
	calls map[string]float64            // command -> calls
	usec  map[string]float64            // command -> microseconds
	ops   map[string]map[string]float64 // node -> op -> round trips
	opSec map[string]map[string]float64 // node -> op -> seconds
	cpu   map[string]time.Duration      // node or "redis" -> CPU time
}

// watched is what a snapshot reads: Redis, and the nodes on it by name.
type watched struct {
	redis    *redis.Client
	redisPID int
	names    []string // the nodes on Redis, in order
	nodes    map[string]*gatewaytest.Node
}

// take reads everything now. A part that cannot be read is logged and left
// out, as if its counters had not moved: the run matters more.
func (w *watched) take(ctx context.Context, log *slog.Logger) snapshot {
	s := snapshot{at: time.Now(), calls: map[string]float64{}, usec: map[string]float64{},
		ops: map[string]map[string]float64{}, opSec: map[string]map[string]float64{}, cpu: map[string]time.Duration{}}
	if info, err := w.redis.Info(ctx, "commandstats").Result(); err != nil {
		log.Warn("INFO commandstats", "err", err)
	} else {
		parseCommandStats(info, s.calls, s.usec)
	}
	pids := map[string]int{"redis": w.redisPID}
	for _, name := range w.names {
		n := w.nodes[name]
		pids[name] = n.PID()
		s.ops[name], s.opSec[name] = map[string]float64{}, map[string]float64{}
		m, err := n.ReadMetrics()
		if err != nil {
			log.Warn("read metrics", "node", name, "err", err)
			continue
		}
		for _, series := range m[opFamily].GetMetric() {
			for _, l := range series.GetLabel() {
				if l.GetName() == "op" {
					s.ops[name][l.GetValue()] = float64(series.GetHistogram().GetSampleCount())
					s.opSec[name][l.GetValue()] = series.GetHistogram().GetSampleSum()
				}
			}
		}
	}
	for name, pid := range pids {
		if p, err := readProc(strconv.Itoa(pid)); err == nil {
			s.cpu[name] = p.cpu
		}
	}
	return s
}

// parseCommandStats reads "cmdstat_NAME:calls=N,usec=N,..." lines.
func parseCommandStats(info string, calls, usec map[string]float64) {
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		name, fields, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "cmdstat_"), ":")
		if !ok || strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		for f := range strings.SplitSeq(fields, ",") {
			k, v, _ := strings.Cut(f, "=")
			n, err := strconv.ParseFloat(v, 64)
			switch {
			case err != nil:
			case k == "calls":
				calls[name] = n
			case k == "usec":
				usec[name] = n
			}
		}
	}
}
