package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgateway/wsgateway/service/gatewaytest"
)

// stormRun is the connect-storm line of -suite inbox.
type stormRun struct {
	Suite          string  `json:"suite"`
	Phase          string  `json:"phase"` // connect_storm
	Clients        int     `json:"clients"`
	Opened         int     `json:"opened"`
	ConnectSeconds float64 `json:"connect_s"` // the first dial to the last connect reply
	ConnectsPerS   float64 `json:"connects_per_s"`
	// EventsEmitted is what the node appended to the events stream
	// (wsgateway_events_emitted_total), EventsDelivered what the webhook
	// receiver got, from the first dial until the backlog was zero again.
	EventsEmitted   uint64  `json:"events_emitted"`
	EventsDelivered uint64  `json:"events_delivered"`
	Batches         uint64  `json:"webhook_batches"`
	DrainSeconds    float64 `json:"drain_s"` // the first dial until every event was delivered and the backlog was 0
	EventsPerS      float64 `json:"events_per_s"`
	// BacklogAfter is wsgateway_events_backlog at the end: 0 unless the
	// drain timed out.
	BacklogAfter float64 `json:"backlog_after"`
	ServerCPU    float64 `json:"gateway_cpu_cores"`
	RedisCPU     float64 `json:"redis_cpu_cores"`
	HostCPU      float64 `json:"host_cpu_cores"`
	HostCPUs     int     `json:"host_cpus"`
	Error        string  `json:"error,omitempty"`
}

// eventReceiver is the webhook receiver: it answers every POST 204 and
// counts the events of its body (a JSON array) and the batches.
type eventReceiver struct {
	srv             *http.Server
	url             string
	events, batches atomic.Uint64
}

func startEventReceiver() (*eventReceiver, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &eventReceiver{url: "http://" + l.Addr().String() + "/events"}
	r.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var batch []json.RawMessage
		if err := json.NewDecoder(req.Body).Decode(&batch); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.events.Add(uint64(len(batch)))
		r.batches.Add(1)
		w.WriteHeader(http.StatusNoContent)
	})}
	go func() { _ = r.srv.Serve(l) }() // ends with ErrServerClosed at Close
	return r, nil
}

// eventState is the node's events series at one moment.
type eventState struct {
	emitted, backlog, queued, conns float64
}

func readEventState(n *gatewaytest.Node) (eventState, error) {
	m, err := n.ReadMetrics()
	if err != nil {
		return eventState{}, err
	}
	var s eventState
	sum := func(name string) float64 {
		var t float64
		if f := m[name]; f != nil {
			for _, x := range f.GetMetric() {
				t += x.GetCounter().GetValue() + x.GetGauge().GetValue()
			}
		}
		return t
	}
	s.emitted, s.backlog = sum("wsgateway_events_emitted_total"), sum("wsgateway_events_backlog")
	s.queued, s.conns = sum("wsgateway_events_queued"), sum("wsgateway_connections")
	return s, nil
}

// runStorm opens cfg.conns clients as fast as the dialer goes, closes them
// all, and waits until the node has no connection, nothing queued for its
// events writer, a webhook backlog of zero, and the receiver has every
// event the node emitted.
func runStorm(ctx context.Context, log *slog.Logger, cfg config, env inboxEnv, recv *eventReceiver) stormRun {
	res := stormRun{Suite: "inbox", Phase: "connect_storm", Clients: cfg.conns, HostCPUs: runtime.NumCPU()}
	s0, err := readEventState(env.node)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	recv0, batches0 := recv.events.Load(), recv.batches.Load()
	server, self := newProcWatch(env.node.PID()), &procWatch{pid: "self"}
	srv0, self0 := server.read(log), self.read(log)
	r0, errR0 := redisCPU(ctx, env.rdb)
	start := time.Now()
	conns := make([]*websocket.Conn, cfg.conns)
	r := ramp(ctx, log, newDialer(cfg, 1024), cfg, cfg.conns, "", func(i int, o opened) { conns[i] = o.conn })
	res.Opened, res.ConnectSeconds, res.ConnectsPerS = r.opened, round3(r.elapsed.Seconds()), r.rate()
	closeAll(conns)
	var s eventState
	deadline := start.Add(drainLimit)
	for {
		s, err = readEventState(env.node)
		delivered := recv.events.Load() - recv0
		if err == nil && s.conns == 0 && s.queued == 0 && s.backlog == 0 && float64(delivered) >= s.emitted-s0.emitted {
			break
		}
		if time.Now().After(deadline) || sleep(ctx, 100*time.Millisecond) != nil {
			res.Error = fmt.Sprintf("not drained after %v: %+v, %d delivered (%v)", drainLimit, s, delivered, err)
			break
		}
	}
	elapsed := time.Since(start)
	srv1, self1 := server.read(log), self.read(log)
	r1, errR1 := redisCPU(ctx, env.rdb)
	res.EventsEmitted = uint64(s.emitted - s0.emitted)
	res.EventsDelivered = recv.events.Load() - recv0
	res.Batches = recv.batches.Load() - batches0
	res.DrainSeconds = round3(elapsed.Seconds())
	res.EventsPerS = round3(float64(res.EventsDelivered) / elapsed.Seconds())
	res.BacklogAfter = s.backlog
	res.ServerCPU, res.HostCPU = cores(srv0, srv1), hostCores(self0, self1)
	if errR0 == nil && errR1 == nil {
		res.RedisCPU = round3((r1 - r0).Seconds() / elapsed.Seconds())
	}
	if r.opened < cfg.conns && res.Error == "" {
		res.Error = fmt.Sprintf("%d of %d connections failed: %s", r.errors, cfg.conns, r.errFirst)
	}
	return res
}
