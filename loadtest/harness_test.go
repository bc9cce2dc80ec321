package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wsgateway/wsgateway/service/gatewaytest"
)

// k6Version must match K6_VERSION in the Makefile (TestK6PinMatchesMakefile).
const k6Version = "v1.8.1"

const (
	testSecret = "loadtest-secret-0123456789abcdef"
	testAPIKey = "loadtest-api-key"
)

// repoRoot is the module root, where loadtest/ and .tools/ live.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := gatewaytest.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// k6Path is the pinned k6 that `make k6` installs (a prerequisite of make
// test); K6 in the environment overrides it. A missing k6 fails the test:
// the capacity gate must never be skipped silently (only -short skips it).
func k6Path(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: runs k6")
	}
	p := os.Getenv("K6")
	if p == "" {
		p = filepath.Join(repoRoot(t), ".tools", "k6-"+k6Version, "k6")
	}
	if fi, err := os.Stat(p); err != nil || fi.IsDir() {
		t.Fatalf("k6 %s not found at %s: run `make k6` (make test does it first)", k6Version, p)
	}
	return p
}

// startGateway runs the gateway binary with auth (the HS256 test secret and
// API key) plus args, and returns once it is ready; the test's cleanup
// kills it.
func startGateway(t testing.TB, args ...string) *gatewaytest.Node {
	t.Helper()
	base := []string{"--jwt-secret", testSecret, "--api-key", testAPIKey, "--drain-delay", "0s", "--drain-window", "0s",
		"--log-level", "info"}
	return gatewaytest.Start(t, gatewaytest.Options{Args: append(base, args...)})
}

// clientToken signs a token with the project's own command, as the
// orchestration does.
func clientToken(t testing.TB, user string) string {
	t.Helper()
	out, err := exec.Command(gatewaytest.Binary(t, gatewaytest.BuildOptions{}), "token", "--sub", user, "--secret", testSecret,
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
	var out gatewaytest.Buffer
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
