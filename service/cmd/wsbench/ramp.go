package main

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// rampResult is what opening the connections took.
type rampResult struct {
	opened   int
	errors   int
	errFirst string // the first error, as a sample of what went wrong
	setup    merged // per-connection setup times, µs
	elapsed  time.Duration
}

// rate is connections opened per second over the ramp.
func (r *rampResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return round3(float64(r.opened) / r.elapsed.Seconds())
}

// ramp opens n connections, cfg.dialConcurrency at a time, and hands each
// one to keep (from the worker that opened it; keep(i, ...) is called at most
// once per i, so a caller may store into a slice by i without a lock). It
// stops early when ctx ends. Every worker's loop is bounded by n, and every
// open by cfg.dialTimeout.
func ramp(ctx context.Context, log *slog.Logger, d *dialer, cfg config, n int, channel string, keep func(i int, o opened)) rampResult {
	var (
		next, ok, failed atomic.Int64
		mu               sync.Mutex // guards res.errFirst and res.setup
		res              rampResult
		wg               sync.WaitGroup
	)
	start := time.Now()
	done := make(chan struct{})
	go progress(log, "ramp", n, &ok, &failed, done)
	for range min(cfg.dialConcurrency, n) {
		wg.Go(func() {
			var h histogram
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					break
				}
				o, err := d.open(ctx, i, channel, cfg.dialTimeout)
				if err != nil {
					if failed.Add(1) == 1 {
						mu.Lock()
						res.errFirst = err.Error()
						mu.Unlock()
					}
					continue
				}
				h.record(uint64(o.setup.Microseconds()))
				ok.Add(1)
				keep(i, o)
			}
			mu.Lock()
			res.setup.add(&h)
			mu.Unlock()
		})
	}
	wg.Wait()
	close(done)
	res.elapsed = time.Since(start)
	res.opened, res.errors = int(ok.Load()), int(failed.Load())
	log.Info("ramp done", "opened", res.opened, "errors", res.errors, "seconds", round3(res.elapsed.Seconds()))
	return res
}

// progress logs the ramp every two seconds until done is closed.
func progress(log *slog.Logger, what string, n int, ok, failed *atomic.Int64, done <-chan struct{}) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			log.Info(what, "opened", ok.Load(), "errors", failed.Load(), "of", n)
		}
	}
}
