package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestObjectiveFailures breaks one thing in a copy of the recorded results
// and checks that the report's objectives table fails the right row (and
// only that one), that the verdict says FAIL, and that -check exits 3.
func TestObjectiveFailures(t *testing.T) {
	sweep, idle := "wsbench-fanout-sweep.jsonl", "wsbench-idle.jsonl"
	cases := []struct {
		name   string
		mutate func(t *testing.T, dir string)
		want   map[string]string // objective -> result and measured
	}{
		{"lost in a wsbench run", func(t *testing.T, dir string) {
			editJSONL(t, filepath.Join(dir, sweep), 2, func(m map[string]any) { m["lost"] = 3 })
		}, map[string]string{"publications lost": "FAIL 3"}},
		{"lost in a k6 run", func(t *testing.T, dir string) {
			editJSON(t, filepath.Join(dir, "fanout.json"), func(m map[string]any) {
				obj(m, "metrics", metricLost, "values")["count"] = 2
				obj(m, "metrics", metricLost, "thresholds", "count==0")["ok"] = false
			})
		}, map[string]string{"publications lost": "FAIL 2", "k6 thresholds": "FAIL 1 of 41 failed"}},
		{"duplicated", func(t *testing.T, dir string) {
			editJSONL(t, filepath.Join(dir, sweep), 1, func(m map[string]any) { m["duplicated"] = 1 })
		}, map[string]string{"publications duplicated": "FAIL 1"}},
		{"delivery p99 missed at the lowest load", func(t *testing.T, dir string) {
			editJSONL(t, filepath.Join(dir, sweep), 1, func(m map[string]any) { obj(m, "latency_ms")["p99"] = 150.5 })
		}, map[string]string{"delivery p99": "FAIL 150.5 ms"}},
		{"setup p99 missed at the lowest load", func(t *testing.T, dir string) {
			editJSONL(t, filepath.Join(dir, idle), 1, func(m map[string]any) { obj(m, "setup_ms")["p99"] = 61.2 })
		}, map[string]string{"connection setup p99": "FAIL 61.2 ms"}},
		{"k6 summary without p(99)", func(t *testing.T, dir string) {
			editJSON(t, filepath.Join(dir, "connect-storm.json"), func(m map[string]any) {
				delete(obj(m, "metrics", metricSetup, "values"), "p(99)")
			})
		}, map[string]string{"connection setup p99": "FAIL ?"}},
		{"wsbench run cut short", func(t *testing.T, dir string) {
			editJSONL(t, filepath.Join(dir, idle), 2, func(m map[string]any) { m["error"] = "timeout after 10m" })
		}, map[string]string{"runs complete": "FAIL 1 incomplete"}},
		{"orchestration recorded a failure", func(t *testing.T, dir string) {
			editJSON(t, filepath.Join(dir, "manifest.json"), func(m map[string]any) {
				m["runs"].([]any)[2].(map[string]any)["exit"] = 1
			})
		}, map[string]string{"runs complete": "FAIL 1 incomplete"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyInputs(t)
			tc.mutate(t, dir)
			runReport(t, goldenArgs(dir, dir), exitOK)
			got := objectiveResults(t, dir)
			for row := range tc.want {
				if _, ok := got[row]; !ok {
					t.Errorf("no %q row in the objectives table", row)
				}
			}
			for row, res := range got {
				want, broken := tc.want[row]
				switch {
				case row == "verdict":
					if !strings.HasPrefix(res, "**Verdict: FAIL**") {
						t.Errorf("verdict line %q, want FAIL", res)
					}
				case broken && res != want:
					t.Errorf("%s: %q, want %q", row, res, want)
				case !broken && !strings.HasPrefix(res, "PASS"):
					t.Errorf("%s: %q, want PASS (only %v should fail)", row, res, tc.want)
				}
			}
			runReport(t, append(goldenArgs(dir, t.TempDir()), "-check"), exitMissed)
		})
	}
}

// TestLostRunIsNoCapacity: a run that lost publications does not count
// for the per-pod capacity, however fast it was.
func TestLostRunIsNoCapacity(t *testing.T) {
	dir := copyInputs(t)
	editJSONL(t, filepath.Join(dir, "wsbench-fanout-sweep.jsonl"), 4, func(m map[string]any) { m["lost"] = 1 })
	runReport(t, goldenArgs(dir, dir), exitOK)
	md := string(readFile(t, filepath.Join(dir, "report.md")))
	row := findTable(t, md, "deliveries/s").rowWhere(t, "source", "wsbench-fanout-sweep.jsonl:4")
	if row["result"] != "FAIL (lost or duplicated)" {
		t.Errorf("run with a loss: result %q", row["result"])
	}
	capRow := findTable(t, md, "figure").rowWhere(t, "figure", "deliveries/s per pod")
	if capRow["value"] != "99,980" || !strings.Contains(capRow["measured at"], "bracketed") {
		t.Errorf("capacity %q (%s), want 99,980, bracketed by the run with a loss", capRow["value"], capRow["measured at"])
	}
}

// TestCheckPasses: -check exits 0 when every objective is met.
func TestCheckPasses(t *testing.T) {
	stdout, _ := runReport(t, append(goldenArgs("testdata/in", t.TempDir()), "-check"), exitOK)
	if !strings.HasPrefix(stdout, "report: PASS") {
		t.Errorf("stdout %q", stdout)
	}
}

func TestInputErrors(t *testing.T) {
	cases := []struct {
		name      string
		files     map[string]string
		args      []string
		wantError string
	}{
		{"empty directory", nil, nil, "no k6 summary (*.json) or wsbench line (*.jsonl)"},
		{"bad wsbench line", map[string]string{"x.jsonl": `{"scenario":"idle"}` + "\n{oops\n"}, nil, "x.jsonl:2"},
		{"bad node series", map[string]string{"x.jsonl": `{"scenario":"idle","conns":1}`, "a-nodes.csv": "time,host\n"},
			nil, `a-nodes.csv: no "unix_s" column`},
		{"corrupt k6 summary", map[string]string{"fanout.json": `{"metrics":{`}, nil, "fanout.json"},
		{"bad manifest", map[string]string{"x.jsonl": `{"scenario":"idle","conns":1}`, "manifest.json": "{"}, nil,
			"manifest.json"},
		{"unknown flag", nil, []string{"-nope"}, "flag provided but not defined"},
		{"stray argument", nil, []string{"extra"}, "unexpected arguments: extra"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, data := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, stderr := runReport(t, append([]string{"-in", dir}, tc.args...), exitError)
			if !strings.Contains(stderr, tc.wantError) {
				t.Errorf("stderr %q, want %q", stderr, tc.wantError)
			}
			if _, err := os.Stat(filepath.Join(dir, "report.md")); err == nil {
				t.Error("report.md written despite the error")
			}
		})
	}
}

// TestNotASummary: a JSON file that is not a k6 summary is skipped with a
// warning, not an error (the directory may hold other JSON).
func TestNotASummary(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{"x.jsonl": `{"scenario":"idle","conns":1,"connected":1,"setup_ms":{"count":1,"p99":3}}`,
		"other.json": `{"hello":1}`}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, stderr := runReport(t, []string{"-in", dir}, exitOK)
	if !strings.Contains(stderr, "skipping other.json: not a k6 summary") {
		t.Errorf("stderr %q", stderr)
	}
}
