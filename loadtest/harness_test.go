package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// k6Version must match K6_VERSION in the Makefile (TestK6PinMatchesMakefile).
const k6Version = "v1.8.1"

const (
	testSecret = "loadtest-secret-0123456789abcdef"
	testAPIKey = "loadtest-api-key"
)

// repoRoot is the module root: this package lives in <root>/loadtest.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("cannot find the module root from %s: %v", root, err)
	}
	return root
}

// k6Path is the pinned k6 that `make k6` installs (a prerequisite of make
// test); K6 in the environment overrides it. A missing k6 fails the test:
// the capacity gate must never be skipped silently.
func k6Path(t testing.TB) string {
	t.Helper()
	p := os.Getenv("K6")
	if p == "" {
		p = filepath.Join(repoRoot(t), ".tools", "k6-"+k6Version, "k6")
	}
	if fi, err := os.Stat(p); err != nil || fi.IsDir() {
		t.Fatalf("k6 %s not found at %s: run `make k6` (make test does it first)", k6Version, p)
	}
	return p
}

// goTool is the go command: `go test` puts its toolchain's bin first on
// PATH for the test binary.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "/usr/local/go/bin/go"
}

var (
	buildOnce sync.Once
	buildBin  string
	buildErr  error
	buildDir  string
)

// gatewayBinary builds ./service/cmd/wsgateway once per test binary, into a
// directory removed by TestMain.
func gatewayBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		buildBin = filepath.Join(buildDir, "wsgateway")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, goTool(), "build", "-o", buildBin, "./service/cmd/wsgateway")
		cmd.Dir = repoRoot(t)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./service/cmd/wsgateway: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

func TestMain(m *testing.M) {
	d, err := os.MkdirTemp("", "wsgateway-loadtest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buildDir = d
	code := m.Run()
	os.RemoveAll(d)
	os.Exit(code)
}

// syncBuffer is a bytes.Buffer safe for a writer goroutine and readers.
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

// node is one gateway process on 127.0.0.1 ports the kernel picked (read
// from its "listening" log line).
type node struct {
	client, api, admin string
	cmd                *exec.Cmd
	logs               *syncBuffer
	done               chan struct{}
}

// startGateway runs the gateway binary with auth (the HS256 test secret and
// API key) plus args, waits for /readyz, and stops it (SIGTERM, then
// SIGKILL after 10 s) when the test ends.
func startGateway(t testing.TB, args ...string) *node {
	t.Helper()
	bin := gatewayBinary(t)
	base := []string{"--listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
		"--jwt-secret", testSecret, "--api-key", testAPIKey, "--drain-delay", "0s", "--drain-window", "0s",
		"--log-level", "info"}
	cmd := exec.Command(bin, append(base, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")} // no WSG_* from the caller's environment
	n := &node{cmd: cmd, logs: &syncBuffer{}, done: make(chan struct{})}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = n.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrs := make(chan map[string]string, 1)
	go func() {
		defer close(n.done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			n.logs.Write(append(append([]byte(nil), line...), '\n'))
			var m map[string]any
			if json.Unmarshal(line, &m) == nil && m["msg"] == "listening" {
				a := map[string]string{}
				for _, k := range []string{"client", "api", "admin"} {
					a[k], _ = m[k].(string)
				}
				addrs <- a
			}
		}
		_ = cmd.Wait()
	}()
	t.Cleanup(func() { n.stop(t) })
	select {
	case a := <-addrs:
		n.client, n.api, n.admin = a["client"], a["api"], a["admin"]
	case <-n.done:
		t.Fatalf("gateway exited before listening:\n%s", n.logs.String())
	case <-time.After(15 * time.Second):
		t.Fatalf("gateway did not log its addresses within 15 s:\n%s", n.logs.String())
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + n.admin + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return n
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway not ready within 10 s (%v):\n%s", err, n.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (n *node) stop(t testing.TB) {
	if n.cmd.Process == nil {
		return
	}
	_ = n.cmd.Process.Signal(os.Interrupt)
	select {
	case <-n.done:
	case <-time.After(10 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.done
		t.Errorf("gateway did not stop within 10 s of SIGINT; killed")
	}
}

// clientToken signs a token with the project's own command, as the
// orchestration does.
func clientToken(t testing.TB, user string) string {
	t.Helper()
	out, err := exec.Command(gatewayBinary(t), "token", "--sub", user, "--secret", testSecret,
		"--subscribe", "load:*", "--publish", "load:*", "--ttl", "1h").Output()
	if err != nil {
		t.Fatalf("wsgateway token: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// k6Result is one k6 run: its exit code, the summary its handleSummary
// wrote, and its output.
type k6Result struct {
	code    int
	summary summaryFile
	output  string
}

// summaryFile is the part of a scenario's summary JSON the tests read.
type summaryFile struct {
	Metrics map[string]struct {
		Type       string             `json:"type"`
		Values     map[string]float64 `json:"values"`
		Thresholds map[string]struct {
			OK bool `json:"ok"`
		} `json:"thresholds"`
	} `json:"metrics"`
	Wsgateway struct {
		Scenario         string   `json:"scenario"`
		Tool             string   `json:"tool"`
		Passed           bool     `json:"passed"`
		FailedThresholds []string `json:"failed_thresholds"`
	} `json:"wsgateway"`
}

// failed lists the thresholds that failed, as "metric: expr", from the
// metrics themselves (not from the scripts' own list).
func (s summaryFile) failed() []string {
	var out []string
	for name, m := range s.Metrics {
		for expr, th := range m.Thresholds {
			if !th.OK {
				out = append(out, name+": "+expr)
			}
		}
	}
	sort.Strings(out)
	return out
}

func (s summaryFile) value(metric, stat string) float64 {
	return s.Metrics[metric].Values[stat]
}

// runK6 runs a scenario (a path under loadtest/k6) with env as -e
// parameters, bounded by timeout, and reads the JSON summary it wrote.
func runK6(t testing.TB, timeout time.Duration, script, name string, env map[string]string) k6Result {
	t.Helper()
	dir := t.TempDir()
	// --address "": no REST API server, which parallel runs would all try
	// to open on localhost:6565.
	args := []string{"run", "--quiet", "--no-color", "--address", "", "-e", "SUMMARY_DIR=" + dir, "-e", "SUMMARY_NAME=" + name}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "-e", k+"="+env[k])
	}
	args = append(args, filepath.Join(repoRoot(t), "loadtest", "k6", script))
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, k6Path(t), args...)
	cmd.Dir = repoRoot(t)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "K6_NO_USAGE_REPORT=true"}
	cmd.WaitDelay = 5 * time.Second
	var out syncBuffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	start := time.Now()
	err := cmd.Run()
	res := k6Result{output: out.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	default:
		t.Fatalf("k6 %s: %v\n%s", script, err, res.output)
	}
	if ctx.Err() != nil {
		t.Fatalf("k6 %s did not finish within %v:\n%s", script, timeout, res.output)
	}
	t.Logf("k6 %s (%s) exited %d after %.1fs", script, name, res.code, time.Since(start).Seconds())
	b, err := os.ReadFile(filepath.Join(dir, name+".json"))
	if err != nil {
		t.Fatalf("k6 %s wrote no summary (exit %d): %v\n%s", script, res.code, err, res.output)
	}
	if err := json.Unmarshal(b, &res.summary); err != nil {
		t.Fatalf("summary of %s: %v", script, err)
	}
	return res
}
