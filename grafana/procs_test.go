package grafana

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Bounds on the waits around the processes of the live test.
const (
	buildTimeout = 3 * time.Minute  // go build of the gateway, cold cache included
	startTimeout = 15 * time.Second // until a process listens and answers
	stopTimeout  = 10 * time.Second // until a killed process has exited
)

// proc is a child process the test started. The test's cleanup kills it,
// by its own PID only, and waits for it to exit.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer // stdout and stderr together
	done chan struct{}
}

func start(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: filepath.Base(bin), cmd: exec.Command(bin, args...), out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		select {
		case <-p.done:
		case <-time.After(stopTimeout):
			t.Errorf("%s (pid %d) still running %v after SIGKILL", p.name, p.cmd.Process.Pid, stopTimeout)
		}
	})
	return p
}

// waitUntil polls ready every 50 ms until it returns nil, failing the test
// with its last error and the tail of the process's output after
// startTimeout or when the process exits.
func (p *proc) waitUntil(t *testing.T, what string, ready func() error) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for {
		err := ready()
		if err == nil {
			return
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited before %s: %v\n%s", p.name, what, err, p.out.tail())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no %s after %v: %v\n%s", p.name, what, startTimeout, err, p.out.tail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lookPath finds a binary a test needs, failing with how to install it:
// a live test that skips is a live test that never runs.
func lookPath(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not on PATH: it comes with the Debian package %s; run `make deps` "+
			"(or apt-get install -y --no-install-recommends %s)", name, pkg, pkg)
	}
	return p
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago, for
// the programs that cannot report a kernel-chosen port.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// buildGateway builds the gateway binary (without -race: it runs as its own
// process, as in production).
func buildGateway(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "wsgateway")
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin,
		"github.com/wsgateway/wsgateway/service/cmd/wsgateway").CombinedOutput()
	if err != nil {
		t.Fatalf("build the gateway: %v\n%s", err, out)
	}
	return bin
}

// startRedis runs a throwaway redis-server on a free port and returns its
// URL. (service/internal/testredis is internal to service/, so this package
// has its own five-line version of its Start.)
func startRedis(t *testing.T, bin string) string {
	t.Helper()
	port := freePort(t)
	p := start(t, bin, "--port", port, "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--protected-mode", "no", "--dir", t.TempDir())
	p.waitUntil(t, "PONG", func() error {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(time.Second))
		if _, err := c.Write([]byte("PING\r\n")); err != nil {
			return err
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil || line != "+PONG\r\n" {
			return fmt.Errorf("PING: %q %v", line, err)
		}
		return nil
	})
	return "redis://127.0.0.1:" + port
}

// node is a gateway process's identity and addresses.
type node struct {
	id, zone, client, api, admin string
}

// startNode runs the gateway binary in --dev mode (anonymous clients, no API
// key) on kernel-chosen ports, which it reports in its "listening" log line.
func startNode(t *testing.T, bin, id, zone, redisURL string) node {
	t.Helper()
	p := start(t, bin, "--dev", "--listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0",
		"--admin-listen", "127.0.0.1:0", "--node-id", id, "--zone", zone, "--redis-url", redisURL,
		"--max-connections", "1000", "--drain-delay", "0s", "--drain-window", "0s")
	n := node{id: id, zone: zone}
	p.waitUntil(t, `"listening" log line`, func() error {
		for _, line := range strings.Split(p.out.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "listening" {
				n.client, _ = m["client"].(string)
				n.api, _ = m["api"].(string)
				n.admin, _ = m["admin"].(string)
				return nil
			}
		}
		return fmt.Errorf("not yet")
	})
	return n
}

// startPrometheus runs a Prometheus that scrapes the nodes' admin ports
// every second, with the target labels the PodMonitor gives in Kubernetes
// (job wsgateway, namespace, pod), and evaluates rules. It returns its base
// URL.
func startPrometheus(t *testing.T, bin string, nodes []node, rules []byte) string {
	t.Helper()
	dir := t.TempDir()
	var cfg strings.Builder
	cfg.WriteString("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n" +
		"rule_files: [wsgateway.rules.yaml]\nscrape_configs:\n  - job_name: wsgateway\n    static_configs:\n")
	for _, n := range nodes {
		fmt.Fprintf(&cfg, "      - targets: [%q]\n        labels: {namespace: test, pod: %q}\n", n.admin, n.id)
	}
	for name, b := range map[string][]byte{"prometheus.yml": []byte(cfg.String()), "wsgateway.rules.yaml": rules} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	addr := "127.0.0.1:" + freePort(t)
	p := start(t, bin, "--config.file", filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path", filepath.Join(dir, "data"), "--web.listen-address", addr, "--log.level", "warn")
	p.waitUntil(t, "readiness", func() error {
		resp, err := http.Get("http://" + addr + "/-/ready")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/-/ready: %s", resp.Status)
		}
		return nil
	})
	return "http://" + addr
}

// syncBuffer collects a process's output; safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// tail is the end of the output, for failure messages.
func (s *syncBuffer) tail() string {
	out := s.String()
	if len(out) > 4000 {
		out = "..." + out[len(out)-4000:]
	}
	return out
}
