package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/wsgateway/wsgateway/loadtest/lb"
	"github.com/wsgateway/wsgateway/service/gatewaytest"
	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
)

// runner is one capacity run: the cluster, what ran on it, the record.
type runner struct {
	log     *slog.Logger
	cfg     config
	logDir  string
	runID   string
	secret  string
	apiKey  string
	token   string
	redis   *redistest.Server
	nodes   [3]*gatewaytest.Node
	lb      *lb.Proxy
	lbWS    string
	lbAPI   string
	lbLogs  *os.File
	record  record
	closers gatewaytest.Closers
}

// nodeName is node i's id (0-based i): lt-node1..3, as the results name them.
func nodeName(i int) string { return fmt.Sprintf("lt-node%d", i+1) }

// newRunner checks the tools, clears the previous results and starts Redis,
// the nodes and HAProxy; on error whatever started is stopped.
func newRunner(ctx context.Context, log *slog.Logger, cfg config) (*runner, error) {
	now := time.Now()
	r := &runner{log: log, cfg: cfg, logDir: filepath.Join(cfg.results, "logs"), runID: fmt.Sprint(now.Unix())}
	r.secret = "loadtest-" + r.runID + "-" + randomHex()
	r.apiKey = "loadtest-key-" + randomHex()
	r.record = newRecord(cfg, now)
	if err := r.checkTools(); err != nil {
		return nil, err
	}
	if err := r.clearResults(); err != nil {
		return nil, err
	}
	if err := r.startCluster(); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

// checkTools fails early on a missing or wrong k6, haproxy or redis-server.
func (r *runner) checkTools() error {
	out, err := exec.Command(r.cfg.k6, "version").Output()
	if err != nil {
		return fmt.Errorf("k6 not found at %s: run 'make k6' (or make loadtest / make capacity-smoke, which do): %w", r.cfg.k6, err)
	}
	if !strings.Contains(string(out), k6Version) {
		return fmt.Errorf("%s is not k6 %s: %s", r.cfg.k6, k6Version, out)
	}
	for _, c := range []string{"haproxy", "redis-server"} {
		if _, err := exec.LookPath(c); err != nil {
			return fmt.Errorf("%s not found: run 'make deps' (scripts/deps.sh installs haproxy and redis-server)", c)
		}
	}
	if _, err := os.Stat(r.cfg.wsbench); err != nil && r.wants("wsbench-fanout") {
		return fmt.Errorf("wsbench not found at %s: run 'make build': %w", r.cfg.wsbench, err)
	}
	return nil
}

// wants reports whether scenario s is to run.
func (r *runner) wants(s string) bool {
	for _, x := range r.cfg.scenarios {
		if x == s {
			return true
		}
	}
	return false
}

// clearResults removes only what a previous run wrote: the results
// directory may be one of the user's.
func (r *runner) clearResults() error {
	if err := os.MkdirAll(r.cfg.results, 0o755); err != nil {
		return err
	}
	if err := os.RemoveAll(r.logDir); err != nil {
		return err
	}
	for _, pat := range []string{"*.json", "*.html", "*-nodes.csv", "wsbench-fanout.jsonl"} {
		old, _ := filepath.Glob(filepath.Join(r.cfg.results, pat))
		for _, f := range old {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	return os.MkdirAll(r.logDir, 0o755)
}

// startCluster starts Redis, the three nodes, HAProxy, and signs the
// clients' token.
func (r *runner) startCluster() error {
	var err error
	if r.redis, err = redistest.Run(redistest.Options{}); err != nil {
		return err
	}
	r.closers.Add(r.redis.Close)
	r.log.Info("redis-server ready", "pid", r.redis.PID(), "addr", r.redis.Addr)
	for i := range r.nodes {
		if err := r.startNode(i); err != nil {
			return err
		}
	}
	if err := r.startLB(); err != nil {
		return err
	}
	bin, err := gatewaytest.Build(gatewaytest.BuildOptions{})
	if err != nil {
		return err
	}
	out, err := exec.Command(bin, "token", "--sub", "loadtest", "--secret", r.secret,
		"--subscribe", "load:*", "--publish", "load:*", "--ttl", "4h").Output()
	if err != nil {
		return fmt.Errorf("wsgateway token: %w", err)
	}
	r.token = strings.TrimSpace(string(out))
	return nil
}

// startNode starts node i on our Redis. Its log stays at info: gatewaytest
// reads the "listening" line, and nothing per connection is logged there.
func (r *runner) startNode(i int) error {
	n, err := gatewaytest.Launch(gatewaytest.Options{Args: []string{
		"--node-id", nodeName(i), "--zone", fmt.Sprintf("lt-zone-%d", i+1),
		"--redis-url", r.redis.URL(), "--jwt-secret", r.secret, "--api-key", r.apiKey,
		"--trusted-proxies", "127.0.0.1", "--drain-delay", "2s", "--drain-window", r.cfg.drainWindow,
	}})
	if err != nil {
		return fmt.Errorf("%s: %w", nodeName(i), err)
	}
	r.nodes[i] = n
	r.closers.Add(func() error { return r.closeNode(i) })
	r.log.Info("gateway ready", "node", nodeName(i), "pid", n.PID(), "client", n.Client, "admin", n.Admin)
	return nil
}

// closeNode ends node i, if it still runs, and writes its log to logs/.
func (r *runner) closeNode(i int) error {
	n := r.nodes[i]
	var err error
	select {
	case <-n.Done():
	default:
		err = n.Close()
	}
	path := filepath.Join(r.logDir, fmt.Sprintf("node%d.log", i+1))
	return errors.Join(err, os.WriteFile(path, []byte(n.Logs.String()), 0o644))
}

// startLB puts HAProxy in front of the nodes and waits until it routes the
// API to all three.
func (r *runner) startLB() error {
	var err error
	if r.lbWS, err = freeAddr(); err != nil {
		return err
	}
	if r.lbAPI, err = freeAddr(); err != nil {
		return err
	}
	if r.lbLogs, err = os.Create(filepath.Join(r.logDir, "haproxy.log")); err != nil {
		return err
	}
	r.closers.Add(r.lbLogs.Close)
	var nodes [3]lb.Backend
	for i, n := range r.nodes {
		nodes[i] = lb.Backend{WS: n.Client, API: n.API, Admin: n.Admin}
	}
	r.lb, err = lb.Start(lb.Options{Config: filepath.Join(r.cfg.root, "loadtest", "haproxy.cfg"),
		WS: r.lbWS, API: r.lbAPI, MaxConn: r.cfg.lbMaxConn, Nodes: nodes, APIKey: r.apiKey, WantNodes: 3, Logs: r.lbLogs})
	if err != nil {
		return err
	}
	r.closers.Add(r.lb.Close)
	r.log.Info("3 nodes behind HAProxy", "pid", r.lb.PID(), "clients", "ws://"+r.lbWS+"/ws", "api", "http://"+r.lbAPI)
	return nil
}

// close stops what startCluster started, newest first, each by its PID.
func (r *runner) close() {
	if err := r.closers.Close(); err != nil {
		r.log.Warn("stop", "err", err)
	}
}

// runAll runs the scenarios, writes the manifest and, in full mode, the
// report; it returns the exit status.
func (r *runner) runAll(ctx context.Context) int {
	if r.cfg.mode == "full" {
		r.record.Host.Load, r.record.quiet = quietStart(ctx, r.log, r.cfg.quiet)
	} else {
		r.record.Host.Load, _ = loadNow()
	}
	for _, s := range r.cfg.scenarios {
		if ctx.Err() != nil {
			r.record.failed = append(r.record.failed, "interrupted")
			break
		}
		r.scenario(ctx, s)
	}
	if err := r.record.write(r.cfg, r.redis, r.lb); err != nil {
		r.log.Error("manifest", "err", err)
		return 1
	}
	if r.cfg.mode == "full" {
		r.report(ctx)
	}
	return r.record.verdict(r.log, r.cfg.results)
}
