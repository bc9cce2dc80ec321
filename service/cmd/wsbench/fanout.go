package main

import (
	"context"
	"log/slog"
	"runtime"
	"time"
)

// fanoutReadBuffer is a subscriber's read buffer: a few batched pushes.
const fanoutReadBuffer = 4096

// fanoutResult is the fanout scenario's JSON line. Counts cover the whole
// run (warmup included) unless their name says window; rates and latencies
// cover the window only.
type fanoutResult struct {
	Scenario       string         `json:"scenario"`
	Conns          int            `json:"conns"`
	Subscribed     int            `json:"subscribed"`
	DialErrors     int            `json:"dial_errors"`
	ErrorSample    string         `json:"error_sample,omitempty"`
	SourceIPs      int            `json:"source_ips"`
	Setup          summary        `json:"setup_ms"`
	Channel        string         `json:"channel"`
	PayloadBytes   int            `json:"payload_bytes"`
	RateTarget     float64        `json:"rate_target"`
	WarmupSeconds  float64        `json:"warmup_s"`
	WindowSeconds  float64        `json:"window_s"`
	Published      uint64         `json:"published"`
	PublishErrors  uint64         `json:"publish_errors"`
	PublishDropped uint64         `json:"publish_dropped"`
	PublisherRate  float64        `json:"publisher_rate"`
	PublishAPI     summary        `json:"publish_api_ms"`
	Expected       uint64         `json:"expected_deliveries"`
	Delivered      uint64         `json:"delivered"`
	Lost           uint64         `json:"lost"`
	Duplicated     uint64         `json:"duplicated"`
	Unparsed       uint64         `json:"unparsed"`
	Disconnects    map[string]int `json:"subscriber_disconnects"`
	DeliveriesPerS float64        `json:"deliveries_per_s"`
	ExpectedPerS   float64        `json:"expected_deliveries_per_s"`
	Latency        summary        `json:"latency_ms"`
	DrainSeconds   float64        `json:"drain_s"`
	ServerCPU      float64        `json:"server_cpu_cores"`
	ServerRSS      uint64         `json:"server_rss_bytes"`
	ToolCPU        float64        `json:"tool_cpu_cores"`
	ToolRSS        uint64         `json:"tool_rss_bytes"`
	HostCPU        float64        `json:"host_cpu_cores"`
	HostCPUs       int            `json:"host_cpus"`
	Error          string         `json:"error,omitempty"`
}

// runFanout subscribes cfg.conns connections to one channel, publishes to
// it through the API at cfg.rate for warmup + duration, and reports what
// every subscriber received.
//
// Subscribers are raw gorilla connections with one goroutine each, reading
// into a reused buffer and scanning lines by hand (subscriber.go): their CPU
// comes out of the same cores as the gateway's.
func runFanout(ctx context.Context, log *slog.Logger, cfg config) fanoutResult {
	res := fanoutResult{Scenario: "fanout", Conns: cfg.conns, SourceIPs: cfg.sourceIPs, Channel: cfg.channel,
		PayloadBytes: max(cfg.payload, stampOverhead), RateTarget: cfg.rate,
		WarmupSeconds: cfg.warmup.Seconds(), WindowSeconds: cfg.duration.Seconds(), HostCPUs: runtime.NumCPU()}
	win := &window{} // set by publishAndMeasure, before the first publication
	subs := make([]*subscriber, cfg.conns)
	prefix := pushPrefix(cfg.channel)
	r := ramp(ctx, log, newDialer(cfg, fanoutReadBuffer), cfg, cfg.conns, cfg.channel, func(i int, o opened) {
		subs[i] = newSubscriber(o, prefix, win)
		go subs[i].readLoop()
	})
	defer stopAll(subs) // on every path: no read loop outlives the run
	res.Subscribed, res.DialErrors, res.ErrorSample, res.Setup = r.opened, r.errors, r.errFirst, r.setup.summarize()

	log.Info("publishing", "rate", cfg.rate, "warmup", cfg.warmup, "window", cfg.duration, "subscribers", r.opened)
	p := publishAndMeasure(ctx, log, cfg, win, &res)
	res.Published, res.PublishErrors, res.PublishDropped = p.ok, p.failed, p.dropped
	res.PublisherRate = round3(float64(p.inWindow) / cfg.duration.Seconds())
	res.PublishAPI = p.api.summarize()
	if p.errFirst != "" && res.ErrorSample == "" {
		res.ErrorSample = p.errFirst
	}
	res.DrainSeconds = round3(awaitOffset(ctx, subs, p.maxOffset, cfg.drain).Seconds())
	stopAll(subs)
	tally(&res, subs, p.maxOffset, cfg.duration)
	if ctx.Err() != nil {
		res.Error = "stopped before the end: " + context.Cause(ctx).Error()
	}
	return res
}

// publishAndMeasure sets the window, publishes for warmup + duration and
// samples the gateway and the tool (CPU, RSS, profile) over the window only.
// It returns when the publisher has finished: the pacer stops at the
// window's end and each call in flight is bounded by the HTTP timeout.
func publishAndMeasure(ctx context.Context, log *slog.Logger, cfg config, win *window, res *fanoutResult) pubResult {
	server, self := newProcWatch(cfg.serverPID), &procWatch{pid: "self"}
	start := time.Now()
	win.end.Store(start.Add(cfg.warmup + cfg.duration).UnixNano())
	win.start.Store(start.Add(cfg.warmup).UnixNano())
	if cfg.onWindow != nil {
		cfg.onWindow(start.Add(cfg.warmup), start.Add(cfg.warmup+cfg.duration))
	}
	done := make(chan pubResult, 1)
	pub := newPublisher(cfg, win)
	go func() { done <- pub.run(ctx, start.Add(cfg.warmup+cfg.duration)) }()

	_ = sleep(ctx, cfg.warmup)
	srv0, self0 := server.read(log), self.read(log)
	stopProfile := startProfile(log, cfg.cpuProfile)
	_ = sleep(ctx, cfg.duration)
	srv1, self1 := server.read(log), self.read(log)
	stopProfile()
	res.ServerCPU, res.ServerRSS = cores(srv0, srv1), srv1.rss
	res.ToolCPU, res.ToolRSS, res.HostCPU = cores(self0, self1), self1.rss, hostCores(self0, self1)
	return <-done
}

// awaitOffset waits until every live subscriber has seen offset, or for at
// most limit, and returns how long it waited.
func awaitOffset(ctx context.Context, subs []*subscriber, offset uint64, limit time.Duration) time.Duration {
	start := time.Now()
	deadline := start.Add(limit)
	for _, s := range subs {
		for s != nil && s.last.Load() < offset && !isDone(s) {
			if time.Now().After(deadline) || ctx.Err() != nil {
				return time.Since(start)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return time.Since(start)
}

func isDone(s *subscriber) bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// stopAll closes every subscriber's connection and waits for its read loop
// to end, which the close makes immediate. It may run more than once.
func stopAll(subs []*subscriber) {
	for _, s := range subs {
		if s != nil {
			s.stopping.Store(true)
			s.conn.Close()
		}
	}
	for _, s := range subs {
		if s != nil {
			<-s.done
		}
	}
}

// tally sums the subscribers into res. Publications a subscriber never got
// up to the channel's final offset are lost, whether it fell behind or its
// connection ended.
func tally(res *fanoutResult, subs []*subscriber, final uint64, window time.Duration) {
	var lat merged
	var inWin uint64
	res.Disconnects = map[string]int{}
	for _, s := range subs {
		if s == nil {
			continue
		}
		if final > s.base {
			res.Expected += final - s.base
		}
		if final > s.lastOffset {
			s.lost += final - s.lastOffset
		}
		res.Delivered += s.received
		res.Lost += s.lost
		res.Duplicated += s.duplicated
		res.Unparsed += s.unparsed
		inWin += s.recvInWin
		if s.err != nil && !s.stoppedByUs {
			res.Disconnects[reason(s.err)]++
		}
		lat.add(&s.latency)
	}
	res.Latency = lat.summarize()
	res.DeliveriesPerS = round3(float64(inWin) / window.Seconds())
	res.ExpectedPerS = round3(res.PublisherRate * float64(res.Subscribed))
}
