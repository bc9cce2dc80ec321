package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// idleReadBuffer is the read buffer of an idle connection. The connect and
// subscribe replies and the server's pings fit; gorilla needs at least 139.
const idleReadBuffer = 256

// defaultPingInterval is assumed when the connect reply names none.
const defaultPingInterval = 25 * time.Second

// idleResult is the idle scenario's JSON line.
type idleResult struct {
	Scenario       string  `json:"scenario"`
	Conns          int     `json:"conns"`
	Connected      int     `json:"connected"`
	Errors         int     `json:"errors"`
	ErrorSample    string  `json:"error_sample,omitempty"`
	SourceIPs      int     `json:"source_ips"`
	Setup          summary `json:"setup_ms"`
	ConnectRate    float64 `json:"connect_rate_per_s"`
	RampSeconds    float64 `json:"ramp_s"`
	HoldSeconds    float64 `json:"hold_s"`
	Dropped        int     `json:"dropped_during_hold"` // counted when the hold needs readers (see hold)
	ServerConns    int     `json:"server_connections"`  // the gateway's count after the hold (API /nodes); -1 unknown
	ServerRSSStart uint64  `json:"server_rss_before_bytes"`
	ServerRSSEnd   uint64  `json:"server_rss_after_bytes"`
	RSSPerConn     int64   `json:"rss_per_conn_bytes"`
	ServerCPU      float64 `json:"server_cpu_cores_ramp"`
	ToolRSS        uint64  `json:"tool_rss_bytes"`
	ToolCPU        float64 `json:"tool_cpu_cores_ramp"`
	HostCPU        float64 `json:"host_cpu_cores_ramp"`
	HostCPUs       int     `json:"host_cpus"`
	Error          string  `json:"error,omitempty"`
}

// runIdle opens cfg.conns connections, holds them for cfg.hold and reports
// what each cost the server.
//
// The connections are raw gorilla connections with a 256-byte read buffer,
// not service/client clients: a client runs goroutines and buffers per
// connection, and at 20k connections on the same machine the tool's own
// memory and scheduling would dominate what is being measured. An idle
// connection here is its socket, its gorilla state and nothing else: no
// goroutine reads it unless the hold is long enough for the server's pings to
// matter (a connection that never answers a ping is closed after two ping
// intervals).
func runIdle(ctx context.Context, log *slog.Logger, cfg config) idleResult {
	res := idleResult{Scenario: "idle", Conns: cfg.conns, SourceIPs: cfg.sourceIPs, HoldSeconds: cfg.hold.Seconds()}
	server := newProcWatch(cfg.serverPID)
	self := procWatch{pid: "self"}
	srv0, self0 := server.read(log), self.read(log)
	stopProfile := startProfile(log, cfg.cpuProfile)

	conns := make([]*websocket.Conn, cfg.conns)
	var ping time.Duration // any connection's; they all get the same
	var pingOnce sync.Once
	d := newDialer(cfg, idleReadBuffer)
	r := ramp(ctx, log, d, cfg, cfg.conns, cfg.subscribe, func(i int, o opened) {
		conns[i] = o.conn
		pingOnce.Do(func() { ping = o.pingInterval })
	})
	srv1, self1 := server.read(log), self.read(log)
	res.Connected, res.Errors, res.ErrorSample = r.opened, r.errors, r.errFirst
	res.Setup, res.ConnectRate, res.RampSeconds = r.setup.summarize(), r.rate(), round3(r.elapsed.Seconds())
	res.ServerCPU, res.ToolCPU, res.HostCPU = cores(srv0, srv1), cores(self0, self1), hostCores(self0, self1)
	res.HostCPUs = runtime.NumCPU()
	defer closeAll(conns)

	if cfg.onHold != nil {
		cfg.onHold()
	}
	dropped, err := hold(ctx, log, cfg.hold, conns, ping)
	if err != nil {
		res.Error = "hold: " + err.Error()
	}
	srv2, self2 := server.read(log), self.read(log)
	res.ServerConns = serverConnections(ctx, log, cfg)
	stopProfile()
	res.Dropped = dropped
	res.ServerRSSStart, res.ServerRSSEnd, res.ToolRSS = srv0.rss, srv2.rss, self2.rss
	if server.ok() && r.opened > 0 {
		res.RSSPerConn = (int64(srv2.rss) - int64(srv0.rss)) / int64(r.opened)
	}
	if ctx.Err() != nil && res.Error == "" {
		res.Error = "stopped before the end: " + context.Cause(ctx).Error()
	}
	return res
}

// hold keeps the connections open for d. When d reaches the server's ping
// interval (ping; 0 if unknown), every connection gets a reader to answer
// pings, and hold reports how many connections the server ended meanwhile;
// otherwise nothing reads them, and it reports 0.
func hold(ctx context.Context, log *slog.Logger, d time.Duration, conns []*websocket.Conn, ping time.Duration) (dropped int, err error) {
	if ping == 0 {
		ping = defaultPingInterval
	}
	var readers *idleReaders
	if d >= ping {
		readers = answerPings(conns)
	}
	log.Info("holding", "for", d, "readers", readers != nil)
	err = sleep(ctx, d)
	if readers != nil {
		dropped = readers.dropped()
	}
	return dropped, err
}

// idleReaders answers the server's pings on every connection during a long
// hold: a goroutine per connection, only when the hold needs it.
type idleReaders struct {
	mu    sync.Mutex
	ended map[string]int // close reason -> connections the server ended
}

func answerPings(conns []*websocket.Conn) *idleReaders {
	r := &idleReaders{ended: map[string]int{}}
	for _, c := range conns {
		if c == nil {
			continue
		}
		// gorilla's default ping handler writes the pong from inside
		// NextReader; nothing else arrives on an idle connection.
		go func() {
			for {
				if _, _, err := c.NextReader(); err != nil {
					r.mu.Lock()
					r.ended[reason(err)]++
					r.mu.Unlock()
					return
				}
			}
		}()
	}
	return r
}

// dropped counts connections that ended during the hold. It is read before
// closeAll, so the tool's own closes are not counted.
func (r *idleReaders) dropped() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.ended {
		n += c
	}
	return n
}

// reason names how a connection ended: its close code, or "error".
func reason(err error) string {
	if ce, ok := err.(*websocket.CloseError); ok {
		return strconv.Itoa(ce.Code)
	}
	return "error"
}

// closeAll closes every connection without a close handshake: the server
// sees the socket end, which is all an idle benchmark needs.
func closeAll(conns []*websocket.Conn) {
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// serverConnections asks the API how many connections the gateway holds
// (every node's, summed), or -1 when it cannot tell.
func serverConnections(ctx context.Context, log *slog.Logger, cfg config) int {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(cfg.api, "/")+"/api/v1/nodes", nil)
	if err != nil {
		return -1
	}
	if cfg.apiKey != "" {
		req.Header.Set("Authorization", "apikey "+cfg.apiKey)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Warn("cannot count the server's connections", "err", err)
		return -1
	}
	defer resp.Body.Close()
	var body struct {
		Nodes []struct{ Connections int }
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		log.Warn("cannot count the server's connections", "status", resp.StatusCode, "err", err)
		return -1
	}
	n := 0
	for _, node := range body.Nodes {
		n += node.Connections
	}
	return n
}
