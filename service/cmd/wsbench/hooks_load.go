package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// hookRun is one line of -suite hooks: one phase, one number of
// connections, each with one publish in flight at a time.
type hookRun struct {
	Suite         string             `json:"suite"`
	Phase         string             `json:"phase"` // baseline, breaker_closed, breaker_open
	Conns         int                `json:"conns"`
	Channel       string             `json:"channel"`
	PayloadBytes  int                `json:"payload_bytes"`
	WarmupSeconds float64            `json:"warmup_s"`
	WindowSeconds float64            `json:"window_s"`
	Publishes     uint64             `json:"publishes"` // replied with a result, in the window
	Errors        uint64             `json:"errors"`    // replied with an error, whole run
	ErrorSample   string             `json:"error_sample,omitempty"`
	PublishesPerS float64            `json:"publishes_per_s"`
	Latency       summary            `json:"latency_ms"` // send to reply, window only
	ServerCPU     float64            `json:"server_cpu_cores"`
	PerCore       float64            `json:"publishes_per_s_per_core"` // publishes / gateway CPU seconds
	ToolCPU       float64            `json:"tool_cpu_cores"`           // the clients and the backend
	HostCPU       float64            `json:"host_cpu_cores"`
	HostCPUs      int                `json:"host_cpus"`
	BackendCalls  uint64             `json:"backend_calls"` // publish calls the backend answered, window
	HookResults   map[string]float64 `json:"hook_results"`  // wsgateway_hook_requests_total{hook="publish"} by result, window
	BreakerState  *float64           `json:"breaker_state"` // wsgateway_hook_breaker_state at the window's end; null without hooks
	Error         string             `json:"error,omitempty"`
}

// hookClient is one connection publishing in a closed loop: a publish,
// its reply, the next. Its goroutine owns everything but the counters that
// the coordinator reads after it ended.
type hookClient struct {
	conn    *websocket.Conn
	channel []byte // JSON-quoted
	pad     string
	win     *window

	ok, failed uint64
	errFirst   string
	latency    histogram // µs, publishes sent inside the window
}

// hookReply is a publish reply; only its id and whether it failed matter.
type hookReply struct {
	ID    uint64 `json:"id"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// loop publishes until stop, each publish bounded by the dial timeout; a
// connection that fails ends the loop with its error sampled.
func (c *hookClient) loop(stop time.Time, timeout time.Duration) {
	var frame []byte
	for id := uint64(2); time.Now().Before(stop); id++ {
		frame = append(frame[:0], `{"id":`...)
		frame = strconv.AppendUint(frame, id, 10)
		frame = append(frame, `,"op":"publish","channel":`...)
		frame = append(frame, c.channel...)
		frame = append(frame, `,"data":{"text":"`...)
		frame = append(append(frame, c.pad...), `"}}`...)
		sent := time.Now()
		_ = c.conn.SetWriteDeadline(sent.Add(timeout))
		_ = c.conn.SetReadDeadline(sent.Add(timeout))
		if err := c.conn.WriteMessage(websocket.TextMessage, frame); err != nil {
			c.fail(fmt.Sprintf("send publish: %v", err))
			return
		}
		r, err := c.await(id)
		if err != nil {
			c.fail(err.Error())
			return
		}
		if r.Error != nil {
			c.fail(r.Error.Code + ": " + r.Error.Message)
			continue
		}
		if c.win.contains(sent.UnixNano()) {
			c.ok++
			c.latency.record(uint64(time.Since(sent).Microseconds()))
		}
	}
}

// await reads until the reply to id; anything else (a push) is skipped.
func (c *hookClient) await(id uint64) (hookReply, error) {
	for {
		_, msg, err := c.conn.ReadMessage()
		if err != nil {
			return hookReply{}, fmt.Errorf("await reply %d: %w", id, err)
		}
		for line := range bytes.Lines(msg) {
			var r hookReply
			if json.Unmarshal(line, &r) == nil && r.ID == id {
				return r, nil
			}
		}
	}
}

func (c *hookClient) fail(msg string) {
	c.failed++
	if c.errFirst == "" {
		c.errFirst = msg
	}
}

// runHookLoad opens conns connections to the node (connect only), has each
// publish in a closed loop for warmup + window, and samples the node's CPU
// and hook metrics over the window.
func runHookLoad(ctx context.Context, log *slog.Logger, cfg config, admin string, backendCalls *atomic.Uint64) hookRun {
	res := hookRun{Suite: "hooks", Conns: cfg.conns, Channel: cfg.channel, PayloadBytes: cfg.payload + len(`{"text":""}`),
		WarmupSeconds: cfg.warmup.Seconds(), WindowSeconds: cfg.duration.Seconds(), HostCPUs: runtime.NumCPU()}
	ch, _ := json.Marshal(cfg.channel) // a string always marshals
	win := &window{}
	clients := make([]*hookClient, cfg.conns)
	r := ramp(ctx, log, newDialer(cfg, fanoutReadBuffer), cfg, cfg.conns, "", func(i int, o opened) {
		clients[i] = &hookClient{conn: o.conn, channel: ch, pad: strings.Repeat("x", cfg.payload), win: win}
	})
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.conn.Close()
			}
		}
	}()
	if r.opened < cfg.conns {
		res.Error = fmt.Sprintf("%d of %d connections failed: %s", r.errors, cfg.conns, r.errFirst)
		return res
	}
	start := time.Now()
	win.start.Store(start.Add(cfg.warmup).UnixNano())
	win.end.Store(start.Add(cfg.warmup + cfg.duration).UnixNano())
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() { c.loop(start.Add(cfg.warmup+cfg.duration), cfg.dialTimeout) })
	}
	server, self := newProcWatch(cfg.serverPID), &procWatch{pid: "self"}
	_ = sleep(ctx, cfg.warmup)
	srv0, self0, m0, calls0 := server.read(log), self.read(log), readHookMetrics(ctx, admin), backendCalls.Load()
	_ = sleep(ctx, cfg.duration)
	srv1, self1, m1, calls1 := server.read(log), self.read(log), readHookMetrics(ctx, admin), backendCalls.Load()
	wg.Wait()
	var lat merged
	for _, c := range clients {
		res.Publishes += c.ok
		res.Errors += c.failed
		if res.ErrorSample == "" {
			res.ErrorSample = c.errFirst
		}
		lat.add(&c.latency)
	}
	res.Latency = lat.summarize()
	res.PublishesPerS = round3(float64(res.Publishes) / cfg.duration.Seconds())
	res.ServerCPU, res.ToolCPU, res.HostCPU = cores(srv0, srv1), cores(self0, self1), hostCores(self0, self1)
	if cpu := (srv1.cpu - srv0.cpu).Seconds(); cpu > 0 {
		res.PerCore = round3(float64(res.Publishes) / cpu)
	}
	res.BackendCalls = calls1 - calls0
	res.HookResults, res.BreakerState = m1.since(m0)
	if ctx.Err() != nil {
		res.Error = "stopped before the end: " + context.Cause(ctx).Error()
	}
	return res
}
