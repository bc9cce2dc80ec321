package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/wsgateway/wsgateway/loadtest/lb"
	"github.com/wsgateway/wsgateway/loadtest/quiet"
	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
)

// params are a run's K=V parameters, in the order given: the k6 -e values
// and the manifest's "params" object.
type params [][2]string

// MarshalJSON writes {"K":"V",...} in order.
func (p params) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, kv := range p {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(kv[0])
		v, _ := json.Marshal(kv[1])
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// String is "K=V K=V" for the log.
func (p params) String() string {
	s := make([]string, len(p))
	for i, kv := range p {
		s[i] = kv[0] + "=" + kv[1]
	}
	return strings.Join(s, " ")
}

// entry is one entry of the manifest's "runs".
type entry struct {
	Name        string   `json:"name"`
	Scenario    string   `json:"scenario"`
	Tool        string   `json:"tool"`
	File        string   `json:"file"`
	NodesCSV    string   `json:"nodes_csv"`
	Exit        int      `json:"exit"`
	Params      params   `json:"params"`
	Fault       string   `json:"fault,omitempty"`
	FaultNode   string   `json:"fault_node,omitempty"`
	FaultAt     *float64 `json:"fault_at_unix,omitempty"`
	FaultExit   *int     `json:"fault_node_exit,omitempty"`
	DrainWindow string   `json:"drain_window,omitempty"`
}

// record is manifest.json: what ran, with which tool and parameters, its
// exit status, the cluster, the fault injected.
type record struct {
	Mode     string `json:"mode"`
	Source   string `json:"source"`
	Started  int64  `json:"started_unix"`
	Finished int64  `json:"finished_unix"`
	Host     struct {
		CPUs  int     `json:"cpus"`
		Load  float64 `json:"load_at_start"`
		Quiet string  `json:"quiet_at_start"`
	} `json:"host"`
	Cluster map[string]any    `json:"cluster"`
	Tools   map[string]string `json:"tools"`
	Runs    []entry           `json:"runs"`

	quiet  string   // "true", "false" or "unknown"
	failed []string // names of the runs that failed
}

func newRecord(cfg config, start time.Time) record {
	return record{Mode: cfg.mode, Started: start.Unix(), quiet: "unknown", Runs: []entry{}}
}

// add records a run; a non-zero exit fails the whole.
func (rec *record) add(r entry) {
	r.NodesCSV = r.Name + "-nodes.csv"
	rec.Runs = append(rec.Runs, r)
	if r.Exit != 0 {
		rec.failed = append(rec.failed, r.Name)
	}
}

// write fills in the run's end and the cluster and writes manifest.json.
func (rec *record) write(cfg config, redis *redistest.Server, p *lb.Proxy) error {
	rec.Source = gitDescribe(cfg.root)
	rec.Finished = time.Now().Unix()
	rec.Host.CPUs = runtime.NumCPU()
	rec.Host.Quiet = rec.quiet
	rec.Cluster = map[string]any{"nodes": 3, "broker": "redis " + redisVersion(), "load_balancer": "haproxy " + lb.Version(),
		"balance": "leastconn", "health_check": "GET /readyz every 500ms", "drain_delay": "2s", "drain_window": cfg.drainWindow, "k6": k6Version}
	rec.Tools = map[string]string{"k6": "the k6 scenarios in loadtest/k6 (JSON summaries)",
		"wsbench": "service/cmd/wsbench, for fan-out points where k6's cost per message would measure k6"}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(cfg.results, "manifest.json"), append(b, '\n'), 0o644)
}

// verdict prints the outcome and returns the exit status.
func (rec *record) verdict(log *slog.Logger, results string) int {
	log.Info("done", "seconds", time.Now().Unix()-rec.Started, "results", results)
	if len(rec.failed) > 0 {
		fmt.Fprintf(os.Stderr, "loadtest: FAILED: %s\n", strings.Join(rec.failed, " "))
		return 1
	}
	fmt.Fprintln(os.Stderr, "loadtest: every threshold held")
	return 0
}

// report runs the capacity report on the results (full mode).
func (r *runner) report(ctx context.Context) {
	r.log.Info("capacity report", "cmd", "go run ./loadtest/report -in "+r.cfg.results+" -out "+r.cfg.results)
	cmd := exec.CommandContext(ctx, "go", "run", "./loadtest/report", "-in", r.cfg.results, "-out", r.cfg.results)
	cmd.Dir, cmd.Stdout, cmd.Stderr = r.cfg.root, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		r.record.failed = append(r.record.failed, "report")
	}
}

// quietStart waits for a quiet machine (full mode) and says how it went.
func quietStart(ctx context.Context, log *slog.Logger, q quiet.Config) (float64, string) {
	load, calm := quiet.Wait(ctx, log, q)
	return load, fmt.Sprint(calm)
}

// loadNow is the 1-minute load average now (smoke mode does not wait).
func loadNow() (float64, error) { return quiet.LoadAverage() }

// gitDescribe names the source: git describe --tags --always --dirty.
func gitDescribe(root string) string {
	cmd := exec.Command("git", "describe", "--tags", "--always", "--dirty")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// redisVersion is redis-server's version, as `redis-server --version`
// prints it (v=7.0.15).
func redisVersion() string {
	out, _ := exec.Command("redis-server", "--version").Output()
	for _, f := range strings.Fields(string(out)) {
		if v, ok := strings.CutPrefix(f, "v="); ok {
			return v
		}
	}
	return "unknown"
}

// freeAddr is a 127.0.0.1 address with a port that was free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// randomHex is 12 random hex digits, for the run's secret and API key.
func randomHex() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
