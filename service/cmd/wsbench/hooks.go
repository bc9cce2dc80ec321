package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wsgateway/wsgateway/service/gatewaytest"
)

// The phases of -suite hooks, each on a node of its own (a hooks file is
// read at startup): no hooks file at all; a publish hook on the bench
// namespace answered {"result":{}} by a backend in this process; the same
// hook on a backend that is down, with on_error allow, so the breaker opens
// after its first failures and every publish goes ahead without a call.
var hookPhases = []string{"baseline", "breaker_closed", "breaker_open"}

// hookEndpoint names the endpoint in the hooks file, and so the breaker's
// series.
const hookEndpoint = "bench"

// hooksFile is the hooks file of the closed and open phases.
func hooksFile(url string) string {
	return fmt.Sprintf(`endpoints:
  %s:
    url: %s
    timeout: 1s
namespaces:
  bench:
    publish: {endpoint: %s, on_error: allow}
`, hookEndpoint, url, hookEndpoint)
}

// hookBackend is the minimal backend of the closed phase: every publish
// call is answered {"result":{}} at once, so the figures are the gateway's
// cost of a hook call, not a backend's. It counts the calls it answered.
type hookBackend struct {
	srv   *http.Server
	url   string
	calls atomic.Uint64
}

func startHookBackend() (*hookBackend, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("hooks backend: %w", err)
	}
	b := &hookBackend{url: "http://" + l.Addr().String() + "/wsgateway"}
	answer := []byte(`{"result":{}}`)
	b.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(answer)
		b.calls.Add(1)
	})}
	go func() { _ = b.srv.Serve(l) }() // ends with ErrServerClosed at Close
	return b, nil
}

// refusedURL is a backend address where nothing listens: a port the
// kernel handed out a moment ago and that is closed again.
func refusedURL() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return "http://" + l.Addr().String() + "/wsgateway", nil
}

// runHooks measures a publish hook's overhead, as docs/benchmarks.md
// ("Backend hooks") describes: for each phase a node of its own, then one
// run per entry of -hook-conns on it, then a summary line of the added
// latency against the baseline. Nodes run one at a time and are killed, by
// their PID, before the next starts.
func runHooks(ctx context.Context, log *slog.Logger, cfg config, stdout io.Writer) int {
	b, err := startHookBackend()
	if err != nil {
		log.Error("hooks", "err", err)
		return 1
	}
	defer b.srv.Close()
	dir, err := os.MkdirTemp("", "wsbench-hooks-")
	if err != nil {
		log.Error("hooks", "err", err)
		return 1
	}
	defer os.RemoveAll(dir)
	down, err := refusedURL()
	if err != nil {
		log.Error("hooks", "err", err)
		return 1
	}
	files := map[string]string{"breaker_closed": b.url, "breaker_open": down}
	code := 0
	var runs []hookRun
	for _, phase := range hookPhases {
		// A client publishing in a closed loop sends thousands of commands a
		// second, far past the default per-connection limit.
		args := append(slices.Clone(suiteGatewayArgs), "--command-rate", "0")
		if url, ok := files[phase]; ok {
			file := filepath.Join(dir, phase+".yaml")
			if err := os.WriteFile(file, []byte(hooksFile(url)), 0o600); err != nil {
				log.Error("hooks", "err", err)
				return 1
			}
			args = append(args, "--hooks-config", file)
		}
		rs, c := runHookPhase(ctx, log, cfg, phase, append(args, cfg.gatewayArgs...), &b.calls, stdout)
		runs, code = append(runs, rs...), max(code, c)
		if ctx.Err() != nil {
			return 1
		}
	}
	return max(code, emit(stdout, log, outcome{res: summarizeHooks(runs)}))
}

// runHookPhase starts one node, runs every -hook-conns point on it, each
// printing its line, and stops the node.
func runHookPhase(ctx context.Context, log *slog.Logger, cfg config, phase string, args []string, calls *atomic.Uint64, stdout io.Writer) ([]hookRun, int) {
	node, err := gatewaytest.Launch(gatewaytest.Options{Args: args})
	if err != nil {
		log.Error("start the gateway", "phase", phase, "err", err)
		return nil, 1
	}
	defer func() {
		if err := node.Close(); err != nil {
			log.Warn("stop the gateway", "err", err)
		}
	}()
	log.Info("gateway ready", "phase", phase, "pid", node.PID(), "client", node.Client)
	var runs []hookRun
	code := 0
	for i, n := range cfg.hookConns {
		if i > 0 && sleep(ctx, settle) != nil {
			break
		}
		c := cfg
		c.url, c.serverPID, c.channel = node.URL(), node.PID(), fmt.Sprintf("bench:hooks-%d", time.Now().UnixNano())
		c.setConns(n)
		log.Info("hooks", "phase", phase, "conns", n)
		r := runHookLoad(ctx, log, c, node.AdminURL(), calls)
		r.Phase = phase
		runs = append(runs, r)
		code = max(code, emit(stdout, log, outcome{res: r, failed: r.Error != "" || r.Errors > 0}))
	}
	return runs, code
}

// hookMetrics is one reading of the node's hook series.
type hookMetrics struct {
	results map[string]float64 // wsgateway_hook_requests_total{hook="publish"} by result
	breaker *float64           // wsgateway_hook_breaker_state{endpoint="bench"}; nil when absent
}

// readHookMetrics reads the node's /metrics; a node that cannot be read
// reads as no series, which the line then shows.
func readHookMetrics(ctx context.Context, admin string) hookMetrics {
	m := hookMetrics{results: map[string]float64{}}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, admin+"/metrics", nil)
	if err != nil {
		return m
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return m
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		name, labels, v, ok := sampleOf(sc.Text())
		switch {
		case !ok:
		case name == "wsgateway_hook_requests_total" && strings.Contains(labels, `hook="publish"`):
			if _, res, found := strings.Cut(labels, `result="`); found {
				res, _, _ = strings.Cut(res, `"`)
				m.results[res] = v
			}
		case name == "wsgateway_hook_breaker_state" && strings.Contains(labels, `endpoint="`+hookEndpoint+`"`):
			m.breaker = &v
		}
	}
	return m
}

// sampleOf splits a text-format sample line `name{labels} value`.
func sampleOf(line string) (name, labels string, v float64, ok bool) {
	if line == "" || line[0] == '#' {
		return "", "", 0, false
	}
	i := strings.LastIndexByte(line, ' ')
	if i < 0 {
		return "", "", 0, false
	}
	v, err := strconv.ParseFloat(line[i+1:], 64)
	if err != nil {
		return "", "", 0, false
	}
	name, labels, _ = strings.Cut(line[:i], "{")
	return name, labels, v, true
}

// since is the change of the counters from m0 to m, without the results
// that did not move, and the breaker's state at m.
func (m hookMetrics) since(m0 hookMetrics) (map[string]float64, *float64) {
	d := map[string]float64{}
	for k, v := range m.results {
		if v != m0.results[k] {
			d[k] = v - m0.results[k]
		}
	}
	return d, m.breaker
}

// hookSummary is the last line of -suite hooks: for each number of
// connections, each hook phase's p50 and p99 minus the baseline's, in ms,
// and its publishes per core-second against the baseline's.
type hookSummary struct {
	Suite  string                 `json:"hooks_summary"`
	Points map[string]*hookPoints `json:"by_conns"`
	Error  string                 `json:"error,omitempty"`
}

// hookPoints is one number of connections in the summary.
type hookPoints struct {
	BaselineP50, BaselineP99 float64            `json:"-"`
	AddedP50                 map[string]float64 `json:"added_p50_ms"`
	AddedP99                 map[string]float64 `json:"added_p99_ms"`
	PerCore                  map[string]float64 `json:"publishes_per_s_per_core"`
}

func summarizeHooks(runs []hookRun) hookSummary {
	s := hookSummary{Suite: "publish hook overhead against the baseline", Points: map[string]*hookPoints{}}
	for _, r := range runs {
		if r.Phase != "baseline" {
			continue
		}
		s.Points[strconv.Itoa(r.Conns)] = &hookPoints{BaselineP50: r.Latency.P50, BaselineP99: r.Latency.P99,
			AddedP50: map[string]float64{}, AddedP99: map[string]float64{}, PerCore: map[string]float64{"baseline": r.PerCore}}
	}
	for _, r := range runs {
		p := s.Points[strconv.Itoa(r.Conns)]
		if r.Phase == "baseline" || p == nil {
			continue
		}
		p.AddedP50[r.Phase] = round3(r.Latency.P50 - p.BaselineP50)
		p.AddedP99[r.Phase] = round3(r.Latency.P99 - p.BaselineP99)
		p.PerCore[r.Phase] = r.PerCore
	}
	if len(s.Points) == 0 {
		s.Error = "no baseline run"
	}
	return s
}
