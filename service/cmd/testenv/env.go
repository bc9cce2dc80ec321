package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/wsgateway/wsgateway/loadtest/lb"
	"github.com/wsgateway/wsgateway/service/gatewaytest"
	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
)

// clusterTimeout bounds the wait for every node to see the others.
const clusterTimeout = 15 * time.Second

// env is what testenv started. The command loop's goroutine owns it.
type env struct {
	cfg     config
	redis   *redistest.Server
	nodes   []*gatewaytest.Node
	lb      *lb.Proxy
	lbWS    string // host:port
	lbAPI   string
	backend string // -hooks-example: the reference backend's base URL
	hooks   string // -hooks-example: the hooks file every node gets
	closers gatewaytest.Closers
	logs    *logSink
}

// start starts Redis, the nodes and HAProxy, in that order; on an error it
// stops what it started and returns the error.
func start(cfg config, stderr io.Writer) (*env, error) {
	e := &env{cfg: cfg, logs: &logSink{dir: cfg.logs, stderr: stderr}}
	e.closers.Add(e.logs.Close)
	if err := e.startAll(); err != nil {
		return nil, fmt.Errorf("%w%s", err, closeErr(e.closers.Close()))
	}
	return e, nil
}

func closeErr(err error) string {
	if err == nil {
		return ""
	}
	return "; stopping what started: " + err.Error()
}

func (e *env) startAll() error {
	if e.cfg.hooksExample {
		var err error
		if e.hooks, err = e.startBackend(); err != nil {
			return err
		}
	}
	if e.cfg.redis {
		r, err := redistest.Run(redistest.Options{})
		if err != nil {
			return err
		}
		e.redis = r
		e.closers.Add(r.Close)
	}
	for i := range e.cfg.nodes {
		if err := e.startNode(i); err != nil {
			return err
		}
	}
	if e.cfg.redis && e.cfg.nodes > 1 {
		if err := waitCluster(e.nodes[0], flagValue(e.cfg.gatewayArgs, "api-key"), e.cfg.nodes); err != nil {
			return err
		}
	}
	if e.cfg.lb {
		return e.startLB()
	}
	return nil
}

// startNode launches node i; its id ("n0") comes before the caller's
// flags, so they may override it, and its Redis and hooks file after them.
func (e *env) startNode(i int) error {
	id := "n" + strconv.Itoa(i)
	args := append([]string{"--node-id", id}, e.cfg.gatewayArgs...)
	if e.redis != nil {
		args = append(args, "--redis-url", e.redis.URL())
	}
	if e.hooks != "" {
		args = append(args, "--hooks-config", e.hooks)
	}
	w, err := e.logs.Writer(id)
	if err != nil {
		return err
	}
	n, err := gatewaytest.Launch(gatewaytest.Options{Args: args, Bin: e.cfg.gateway, Logs: w})
	if err != nil {
		return fmt.Errorf("node %s: %w", id, err)
	}
	e.nodes = append(e.nodes, n)
	e.closers.Add(func() error { return closeNode(n) })
	return nil
}

// closeNode kills the node's current run unless it has exited already.
func closeNode(n *gatewaytest.Node) error {
	select {
	case <-n.Done():
		return nil
	default:
		return n.Close()
	}
}

// startLB puts HAProxy in front of the nodes. haproxy.cfg names three
// servers; with fewer nodes the missing slots repeat the first ones.
func (e *env) startLB() error {
	cfgPath := e.cfg.haproxyCfg
	if cfgPath == "" {
		root, err := gatewaytest.ModuleRoot()
		if err != nil {
			return err
		}
		cfgPath = filepath.Join(root, "loadtest", "haproxy.cfg")
	}
	var err error
	if e.lbWS, err = freeAddr(); err != nil {
		return err
	}
	if e.lbAPI, err = freeAddr(); err != nil {
		return err
	}
	var backends [3]lb.Backend
	for i := range backends {
		n := e.nodes[i%len(e.nodes)]
		backends[i] = lb.Backend{WS: n.Client, API: n.API, Admin: n.Admin}
	}
	w, err := e.logs.Writer("haproxy")
	if err != nil {
		return err
	}
	// Through the balancer a node lists the cluster: every node with
	// Redis, itself alone without.
	want := 1
	if e.redis != nil {
		want = len(e.nodes)
	}
	p, err := lb.Start(lb.Options{Config: cfgPath, WS: e.lbWS, API: e.lbAPI, MaxConn: 4000, Nodes: backends,
		APIKey: flagValue(e.cfg.gatewayArgs, "api-key"), WantNodes: want, Logs: w})
	if err != nil {
		return err
	}
	e.lb = p
	e.closers.Add(p.Close)
	return nil
}

// waitCluster polls GET /api/v1/nodes on n until it lists want nodes: the
// nodes found each other through Redis.
func waitCluster(n *gatewaytest.Node, apiKey string, want int) error {
	client := http.Client{Timeout: 2 * time.Second}
	var last string
	for deadline := time.Now().Add(clusterTimeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		req, _ := http.NewRequest(http.MethodGet, n.APIURL()+"/api/v1/nodes", nil)
		if apiKey != "" {
			req.Header.Set("Authorization", "apikey "+apiKey)
		}
		resp, err := client.Do(req)
		if err != nil {
			last = err.Error()
			continue
		}
		var body struct {
			Nodes []json.RawMessage `json:"nodes"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err == nil && len(body.Nodes) >= want {
			return nil
		}
		last = fmt.Sprintf("%s, %d nodes listed, %v", resp.Status, len(body.Nodes), err)
	}
	return fmt.Errorf("nodes did not see each other within %v: GET /api/v1/nodes: %s", clusterTimeout, last)
}

// freeAddr returns a 127.0.0.1 address that was free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// nodeEntry is one node in the JSON testenv prints.
type nodeEntry struct {
	Index int    `json:"index"`
	ID    string `json:"id"`
	WS    string `json:"ws"`
	HTTP  string `json:"http"`
	API   string `json:"api"`
	Admin string `json:"admin"`
	PID   int    `json:"pid"`
}

// summary is the line testenv prints once everything is ready.
type summary struct {
	Redis    string      `json:"redis,omitempty"`
	RedisPID int         `json:"redis_pid,omitempty"`
	LB       string      `json:"lb,omitempty"`
	LBAPI    string      `json:"lb_api,omitempty"`
	LBPID    int         `json:"lb_pid,omitempty"`
	Backend  string      `json:"backend,omitempty"`
	Nodes    []nodeEntry `json:"nodes"`
}

func (e *env) entry(i int) nodeEntry {
	n := e.nodes[i]
	return nodeEntry{Index: i, ID: "n" + strconv.Itoa(i), WS: n.URL(), HTTP: "http://" + n.Client,
		API: n.APIURL(), Admin: n.AdminURL(), PID: n.PID()}
}

func (e *env) summary() summary {
	s := summary{Backend: e.backend}
	if e.redis != nil {
		s.Redis, s.RedisPID = e.redis.URL(), e.redis.PID()
	}
	if e.lb != nil {
		s.LB, s.LBAPI, s.LBPID = "ws://"+e.lbWS+"/ws", "http://"+e.lbAPI, e.lb.PID()
	}
	for i := range e.nodes {
		s.Nodes = append(s.Nodes, e.entry(i))
	}
	return s
}

// logSink hands out one log writer per process: a file in dir, or stderr
// with each line prefixed by the process's name. mu orders the lines of
// every process on stderr.
type logSink struct {
	dir    string
	stderr io.Writer
	mu     sync.Mutex
	files  []*os.File
}

// Writer returns the writer for the process called name.
func (s *logSink) Writer(name string) (io.Writer, error) {
	if s.dir == "" {
		return &prefixWriter{prefix: "[" + name + "] ", mu: &s.mu, w: s.stderr}, nil
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(s.dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.files = append(s.files, f)
	s.mu.Unlock()
	return f, nil
}

// Close closes the log files; it runs last, after every process stopped.
func (s *logSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var first error
	for _, f := range s.files {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	s.files = nil
	return first
}
