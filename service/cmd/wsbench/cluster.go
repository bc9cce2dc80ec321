package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/wsgateway/wsgateway/loadtest/quiet"
	"github.com/wsgateway/wsgateway/service/gatewaytest"
	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
)

// tailCut ends the measured window this much before wsbench's own, when
// it starts closing its subscribers: the counts are of steady publishing
// only, no subscribe or unsubscribe traffic.
const tailCut = 250 * time.Millisecond

// cluster is the running setup of -suite cluster: a redis-server of its
// own, nodes A and B on it, and node C with the in-process broker when a
// point needs it. Its goroutine owns everything.
type cluster struct {
	log    *slog.Logger
	cfg    config
	out    io.Writer // the JSON lines
	errOut io.Writer // profiles' tops
	redis  *redistest.Server
	nodes  map[string]*gatewaytest.Node
	w      *watched
	closer gatewaytest.Closers
	prof   *profiler // nil without -pprof-seconds
}

// runCluster measures the cluster mode (--redis-url), as docs/benchmarks.md
// describes: the periodic part, then every point, each after waiting for a
// quiet machine, each printing wsbench's line and then, through Redis, its
// summary line.
func runCluster(ctx context.Context, log *slog.Logger, cfg config, stdout, stderr io.Writer) int {
	points, err := cfg.cluster.plan(cfg.conns, cfg.rates)
	if err != nil {
		log.Error("cluster", "err", err)
		return 2
	}
	most := cfg.cluster.periodicConns
	for _, p := range points {
		most = max(most, p.subs)
	}
	if err := checkOpenFiles(most); err != nil {
		log.Error("open files", "err", err)
		return 1
	}
	c := &cluster{log: log, cfg: cfg, out: stdout, errOut: stderr, nodes: map[string]*gatewaytest.Node{}}
	defer c.close()
	needC := slices.ContainsFunc(points, func(p point) bool { return p.topo == "inproc" })
	if err := c.start(needC); err != nil {
		log.Error("cluster: start", "err", err)
		return 1
	}
	code := 0
	if cfg.cluster.has("periodic") {
		c.runPeriodic(ctx)
	}
	for _, p := range points {
		if ctx.Err() != nil {
			return 1
		}
		code = max(code, c.runPoint(ctx, p))
	}
	return code
}

// start runs Redis and the nodes.
func (c *cluster) start(needC bool) error {
	var err error
	if c.redis, err = redistest.Run(redistest.Options{}); err != nil {
		return err
	}
	c.closer.Add(c.redis.Close)
	c.log.Info("redis-server ready", "pid", c.redis.PID(), "addr", c.redis.Addr, "dir", c.redis.Dir)
	if c.prof, err = newProfiler(c.cfg.cluster); err != nil {
		return err
	}
	names := []string{"A", "B"}
	if needC {
		names = append(names, "C")
	}
	for _, name := range names {
		args := append(slices.Clone(suiteGatewayArgs), "--node-id", "bench-"+name)
		if name != "C" { // C: the in-process broker, the same-session baseline
			args = append(args, "--redis-url", c.redis.URL())
		}
		if c.prof != nil {
			args = append(args, "--pprof")
		}
		n, err := gatewaytest.Launch(gatewaytest.Options{Args: append(args, c.cfg.gatewayArgs...)})
		if err != nil {
			return fmt.Errorf("node %s: %w", name, err)
		}
		c.nodes[name] = n
		c.closer.Add(n.Close)
		c.log.Info("gateway ready", "node", name, "pid", n.PID(), "client", n.Client, "api", n.API, "admin", n.Admin)
	}
	c.w = &watched{redis: c.redis.Client(), redisPID: c.redis.PID(), names: []string{"A", "B"}, nodes: c.nodes}
	return nil
}

// close stops what start started, newest first, each by its PID.
func (c *cluster) close() {
	if err := c.closer.Close(); err != nil {
		c.log.Warn("cluster: stop", "err", err)
	}
}

// runPoint runs one fan-out point and prints its line and, through Redis,
// its summary line. The window's snapshots are taken from the run's own
// window, less tailCut.
func (c *cluster) runPoint(ctx context.Context, p point) int {
	load, calm := quiet.Wait(ctx, c.log, c.cfg.cluster.quiet)
	subName, pubName := p.nodes()
	sub, pub := c.nodes[subName], c.nodes[pubName]
	c.log.Info("cluster point", "point", p.label(), "subscribers_on", subName, "publisher_on", pubName, "load", load)
	viaRedis := subName != "C"
	var s0 snapshot
	if viaRedis {
		s0 = c.w.take(ctx, c.log)
	}
	cfg := c.cfg
	cfg.setConns(p.subs)
	cfg.rate, cfg.url, cfg.api, cfg.serverPID = p.rateValue(), sub.URL(), pub.APIURL(), sub.PID()
	if !cfg.channelGiven {
		cfg.channel = freshChannel()
	}
	w0, w1, o, published := c.measure(ctx, cfg, p, viaRedis)
	code := emit(c.out, c.log, o)
	c.prof.show(c.errOut)
	if viaRedis && published {
		s := pointSummary{Label: p.label(), SubscriberNode: subName, PublisherNode: pubName,
			Subscribers: o.res.(fanoutResult).Subscribed, Rate: p.rateValue(), LoadAvg: load, Quiet: calm}
		summarize(&s, c.w.names, w0, w1, s0, c.w.take(ctx, c.log))
		code = max(code, emit(c.out, c.log, outcome{res: s}))
	}
	_ = sleep(ctx, settle)
	return code
}

// measure runs the point and, through Redis, takes the snapshots at the
// edges of its window (and starts the profiles); published is false when
// the run ended before it published.
func (c *cluster) measure(ctx context.Context, cfg config, p point, viaRedis bool) (w0, w1 snapshot, o outcome, published bool) {
	windows := make(chan [2]time.Time, 1)
	cfg.onWindow = func(from, to time.Time) { windows <- [2]time.Time{from, to} }
	done := make(chan outcome, 1)
	go func() { done <- runScenario(ctx, c.log, cfg) }()
	select {
	case o = <-done:
		return w0, w1, o, false
	case w := <-windows:
		_ = sleep(ctx, time.Until(w[0]))
		if viaRedis {
			w0 = c.w.take(ctx, c.log)
		}
		sub, pub := p.nodes()
		c.prof.start(c.log, p, c.nodes, slices.Compact([]string{sub, pub}))
		_ = sleep(ctx, time.Until(w[1].Add(-tailCut)))
		if viaRedis {
			w1 = c.w.take(ctx, c.log)
		}
		return w0, w1, <-done, true
	}
}
