package grafana

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsgateway/wsgateway/examples/backend"
	"github.com/wsgateway/wsgateway/service/gatewaytest"
)

// Bounds on the waits around Prometheus, the one process of the live test
// that gatewaytest and redistest do not run.
const (
	startTimeout = 15 * time.Second // until a process listens and answers
	stopTimeout  = 10 * time.Second // until a killed process has exited
)

// proc is a child process the test started. The test's cleanup kills it,
// by its own PID only, and waits for it to exit.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *gatewaytest.Buffer // stdout and stderr together
	done chan struct{}
}

func start(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: filepath.Base(bin), cmd: exec.Command(bin, args...), out: &gatewaytest.Buffer{}, done: make(chan struct{})}
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
			t.Fatalf("%s exited before %s: %v\n%s", p.name, what, err, p.out.Tail(4000))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no %s after %v: %v\n%s", p.name, what, startTimeout, err, p.out.Tail(4000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lookPath finds a binary a test needs, failing with how to install it:
// a live test that skips is a live test that never runs. Only -short skips
// it, as a fast loop with no external processes.
func lookPath(t *testing.T, name, pkg string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: runs " + name)
	}
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

// node is a gateway process and its name.
type node struct {
	id string
	*gatewaytest.Node
}

// startNode runs the gateway binary in --dev mode (anonymous clients, no API
// key) on kernel-chosen ports.
func startNode(t *testing.T, id, zone, redisURL, hooksConfig string, extra ...string) node {
	t.Helper()
	return node{id: id, Node: gatewaytest.Start(t, gatewaytest.Options{Args: append([]string{"--dev", "--node-id", id,
		"--zone", zone, "--redis-url", redisURL, "--max-connections", "1000", "--drain-delay", "0s", "--drain-window", "0s",
		"--hooks-config", hooksConfig}, extra...)})}
}

// startHooksBackend serves the reference hooks backend (examples/backend)
// and writes a hooks file that sends the rpc methods echo:* to it; the load
// calls one. It returns the file's path.
func startHooksBackend(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/wsgateway/", backend.New(backend.Options{}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	file := filepath.Join(t.TempDir(), "hooks.yaml")
	cfg := fmt.Sprintf("endpoints:\n  app:\n    url: %s/wsgateway\nrpc:\n  echo: {endpoint: app}\n", srv.URL)
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// startPrometheus runs a Prometheus that scrapes the nodes' admin ports
// every second, with the target labels the PodMonitor gives in Kubernetes
// (job wsgateway, namespace, pod), and the workers' metrics addresses as the
// worker's PodMonitor would (job wsgateway-worker, pod worker-<i>), and
// evaluates rules. It returns its base URL.
func startPrometheus(t *testing.T, bin string, nodes []node, workers []string, rules []byte) string {
	t.Helper()
	dir := t.TempDir()
	var cfg strings.Builder
	cfg.WriteString("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n" +
		"rule_files: [wsgateway.rules.yaml]\nscrape_configs:\n  - job_name: wsgateway\n    static_configs:\n")
	for _, n := range nodes {
		fmt.Fprintf(&cfg, "      - targets: [%q]\n        labels: {namespace: test, pod: %q}\n", n.Admin, n.id)
	}
	if len(workers) > 0 {
		cfg.WriteString("  - job_name: wsgateway-worker\n    static_configs:\n")
	}
	for i, w := range workers {
		fmt.Fprintf(&cfg, "      - targets: [%q]\n        labels: {namespace: test, pod: \"worker-%d\"}\n", w, i)
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
