package loadtest

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// scenarios are the k6 scripts that loadtest/run runs.
var scenarios = []string{"connect-storm.js", "fanout.js", "reconnect-storm.js", "soak.js"}

// latencyPairs names, for each Trend with a percentile threshold, the
// Counter whose count threshold fails a run without samples (k6 passes
// p(99)<X when the Trend is empty).
var latencyPairs = map[string]string{
	"wsg_setup_time":       "wsg_connects",
	"wsg_delivery_latency": "wsg_deliveries",
	"wsg_recovery_time":    "wsg_recovered",
	"wsg_command_rtt":      "wsg_commands",
}

func k6Cmd(t *testing.T, args ...string) *exec.Cmd {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, k6Path(t), args...)
	cmd.Dir = repoRoot(t)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "K6_NO_USAGE_REPORT=true"}
	return cmd
}

// TestK6Scenarios loads every scenario with `k6 inspect` (syntax, imports,
// options) and checks its thresholds: every percentile threshold is paired
// with a count threshold that needs at least one sample, and the
// scenarios that deliver publications forbid losing or repeating one.
func TestK6Scenarios(t *testing.T) {
	countAtLeastOne := regexp.MustCompile(`^count(>0|>=[1-9][0-9]*)$`)
	for _, s := range scenarios {
		t.Run(s, func(t *testing.T) {
			out, err := k6Cmd(t, "inspect", filepath.Join("loadtest", "k6", s)).Output()
			if err != nil {
				var stderr string
				if ee, ok := err.(*exec.ExitError); ok {
					stderr = string(ee.Stderr)
				}
				t.Fatalf("k6 inspect %s: %v\n%s", s, err, stderr)
			}
			var opts struct {
				Thresholds map[string][]string `json:"thresholds"`
				Scenarios  map[string]any      `json:"scenarios"`
			}
			if err := json.Unmarshal(out, &opts); err != nil {
				t.Fatal(err)
			}
			if len(opts.Scenarios) == 0 || len(opts.Thresholds) == 0 {
				t.Fatalf("%s: no scenarios or no thresholds: %s", s, out)
			}
			for metric, exprs := range opts.Thresholds {
				for _, e := range exprs {
					if !strings.HasPrefix(e, "p(") {
						continue
					}
					pair, ok := latencyPairs[metric]
					if !ok {
						t.Errorf("%s: %s has %q but no paired count metric is known (add it to latencyPairs)", s, metric, e)
						continue
					}
					found := false
					for _, pe := range opts.Thresholds[pair] {
						found = found || countAtLeastOne.MatchString(pe)
					}
					// The storm's recovery may be optional (EXPECT_STORM=false).
					if !found && !(s == "reconnect-storm.js" && metric == "wsg_recovery_time") {
						t.Errorf("%s: %s %q is not paired with a count>0 threshold on %s (has %v)", s, metric, e, pair, opts.Thresholds[pair])
					}
				}
			}
			if s != "connect-storm.js" {
				for _, m := range []string{"wsg_lost", "wsg_duplicated"} {
					if got := opts.Thresholds[m]; len(got) != 1 || got[0] != "count==0" {
						t.Errorf("%s: %s thresholds %v, want [count==0]", s, m, got)
					}
				}
			}
		})
	}
}

// TestReconnectStormExpectsAStorm: by default the storm scenario fails a
// run in which no client was disconnected (and so nothing was recovered);
// with FAULT=drain, also one in which no client saw close code 1012.
func TestReconnectStormExpectsAStorm(t *testing.T) {
	inspect := func(args ...string) map[string][]string {
		out, err := k6Cmd(t, append(append([]string{"inspect"}, args...), filepath.Join("loadtest", "k6", "reconnect-storm.js"))...).Output()
		if err != nil {
			t.Fatal(err)
		}
		var opts struct {
			Thresholds map[string][]string `json:"thresholds"`
		}
		if err := json.Unmarshal(out, &opts); err != nil {
			t.Fatal(err)
		}
		return opts.Thresholds
	}
	want := func(th map[string][]string, metric, expr string) {
		t.Helper()
		if got := th[metric]; len(got) != 1 || got[0] != expr {
			t.Errorf("%s thresholds %v, want [%s]", metric, got, expr)
		}
	}
	def := inspect()
	want(def, "wsg_disconnects", "count>0")
	want(def, "wsg_recovered", "count>0")
	want(def, "wsg_disconnects{code:1012}", "count>=0")
	drain := inspect("-e", "FAULT=drain")
	want(drain, "wsg_disconnects", "count>0")
	want(drain, "wsg_disconnects{code:1012}", "count>0")
	off := inspect("-e", "EXPECT_STORM=false", "-e", "FAULT=drain")
	want(off, "wsg_disconnects", "count>=0")
	want(off, "wsg_recovered", "count>=0")
	want(off, "wsg_disconnects{code:1012}", "count>=0")
}

// TestK6LibSelfTest runs the helpers' own checks (loadtest/k6/lib/selftest.js).
func TestK6LibSelfTest(t *testing.T) {
	out, err := k6Cmd(t, "run", "--quiet", "--no-color", filepath.Join("loadtest", "k6", "lib", "selftest.js")).CombinedOutput()
	if err != nil {
		t.Fatalf("selftest.js: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "checks passed, 0 failed") {
		t.Fatalf("selftest.js output:\n%s", out)
	}
}

// TestK6PinMatchesMakefile: the tests look for the k6 the Makefile
// installs; both must name the same version.
func TestK6PinMatchesMakefile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	want := "K6_VERSION := " + k6Version
	if !strings.Contains(string(b), want) {
		t.Fatalf("the Makefile does not pin %q", want)
	}
}
