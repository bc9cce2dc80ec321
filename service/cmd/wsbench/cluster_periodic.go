package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/wsgateway/wsgateway/loadtest/quiet"
)

// runPeriodic holds -periodic-conns idle subscribers on B and prints the
// Redis traffic per second meanwhile: heartbeats, presence refreshes,
// position checks, pub/sub pings, with nothing published.
func (c *cluster) runPeriodic(ctx context.Context) {
	load, calm := quiet.Wait(ctx, c.log, c.cfg.cluster.quiet)
	period := c.cfg.cluster.periodic
	c.log.Info("cluster periodic: idle subscribers on B", "subscribers", c.cfg.cluster.periodicConns, "for", period, "load", load)
	b := c.nodes["B"]
	cfg := c.cfg
	cfg.scenario = "idle"
	cfg.setConns(c.cfg.cluster.periodicConns)
	cfg.url, cfg.api, cfg.serverPID = b.URL(), b.APIURL(), b.PID()
	cfg.subscribe = fmt.Sprintf("bench:periodic-%d", os.Getpid())
	cfg.hold = period + 3*time.Second
	holding := make(chan struct{}, 1)
	cfg.onHold = func() { holding <- struct{}{} }
	done := make(chan outcome, 1)
	go func() { done <- runScenario(ctx, c.log, cfg) }()
	var o outcome
	select {
	case <-holding:
		_ = sleep(ctx, time.Second)
		p0 := c.w.take(ctx, c.log)
		_ = sleep(ctx, period)
		s := periodicSummary{Label: "idle subscribers on B", Subscribers: cfg.conns, LoadAvg: load, Quiet: calm}
		summarizePeriodic(&s, c.w.names, p0, c.w.take(ctx, c.log))
		o = <-done
		emit(c.out, c.log, o)
		emit(c.out, c.log, outcome{res: s})
	case o = <-done:
		emit(c.out, c.log, o)
		c.log.Warn("cluster periodic: wsbench ended before holding")
	}
	_ = sleep(ctx, settle)
}
