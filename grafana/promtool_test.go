package grafana

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// promtoolTimeout bounds one promtool run; each takes well under a second.
const promtoolTimeout = 30 * time.Second

// promtool returns the path of promtool, failing the test when it is
// missing: an alert test that skips is an alert test that never runs.
func promtool(t *testing.T) string {
	t.Helper()
	return lookPath(t, "promtool", "prometheus")
}

// rulesFile turns a PrometheusRule into the rule file Prometheus and
// promtool read: its spec.groups under "groups".
func rulesFile(prometheusRule []byte) ([]byte, error) {
	var doc struct {
		Spec struct {
			Groups any `json:"groups"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(prometheusRule, &doc); err != nil {
		return nil, err
	}
	if doc.Spec.Groups == nil {
		return nil, errors.New("no spec.groups")
	}
	return yaml.Marshal(map[string]any{"groups": doc.Spec.Groups})
}

// runPromtool writes the rules extracted from prometheusRule, and the unit
// tests if any, into a fresh directory and runs promtool with args there;
// it returns promtool's error with its output.
func runPromtool(t *testing.T, prometheusRule, unitTests []byte, args ...string) error {
	t.Helper()
	bin := promtool(t)
	dir := t.TempDir()
	rules, err := rulesFile(prometheusRule)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "wsgateway.rules.yaml"), rules, 0o644); err != nil {
		t.Fatal(err)
	}
	if unitTests != nil {
		if err := os.WriteFile(filepath.Join(dir, "alerts_test.yaml"), unitTests, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), promtoolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// TestPromtool: the rules pass `promtool check rules` and their unit tests
// pass `promtool test rules`; each broken copy fails the one it should.
func TestPromtool(t *testing.T) {
	rule, tests := string(readFile(t, "prometheusrule.yaml")), readFile(t, "tests/alerts_test.yaml")
	cases := []struct {
		name                string
		rule                string
		checkFails, tstFail bool
	}{
		{"as shipped", rule, false, false},
		{"syntax error", strings.Replace(rule, "== 1", "== == 1", 1), true, true},
		{"bad duration", strings.Replace(rule, "for: 5m", "for: 5 minutes", 1), true, true},
		{"typo in a metric name", strings.Replace(rule, "expr: wsgateway_draining == 1",
			"expr: wsgateway_drainig == 1", 1), false, true},
		{"threshold too high", strings.Replace(rule, "wsgateway_max_connections > 0.9",
			"wsgateway_max_connections > 0.99", 1), false, true},
		{"fires when healthy", strings.Replace(rule, "wsgateway_redis_breaker_state >= 1",
			"wsgateway_redis_breaker_state >= 0", 1), false, true},
		{"annotation changed", strings.Replace(rule, "is near --max-connections", "is nearly full", 1), false, true},
		{"hook alert on half-open too", strings.Replace(rule, "wsgateway_hook_breaker_state == 2",
			"wsgateway_hook_breaker_state >= 1", 1), false, true},
		{"hook alert without its wait", strings.Replace(rule, "expr: wsgateway_hook_breaker_state == 2\n          for: 1m",
			"expr: wsgateway_hook_breaker_state == 2\n          for: 0m", 1), false, true},
		// issue 13
		{"oldest pending summed over nodes", strings.Replace(rule, "max by (namespace, topic) (wsgateway_inbox_oldest_pending_seconds)",
			"sum by (namespace, topic) (wsgateway_inbox_oldest_pending_seconds)", 1), false, true},
		{"oldest pending threshold too high", strings.Replace(rule, "(wsgateway_inbox_oldest_pending_seconds) > 120",
			"(wsgateway_inbox_oldest_pending_seconds) > 600", 1), false, true},
		{"dead letters on retries too", strings.Replace(rule, `wsgateway_worker_handled_total{result="dead"}`,
			`wsgateway_worker_handled_total{result=~"dead|retry"}`, 1), false, true},
		{"webhook alert on any failure", strings.Replace(rule, "[5m]))\n            ) > 0.5",
			"[5m]))\n            ) > 0", 1), false, true},
		{"webhook alert without its wait", strings.Replace(rule, "    or\n            sum by (namespace) (increase(wsgateway_webhook_deliveries_total{result=\"dead\"}[15m])) >= 1\n          for: 10m",
			"    or\n            sum by (namespace) (increase(wsgateway_webhook_deliveries_total{result=\"dead\"}[15m])) >= 1\n          for: 1m", 1), false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.name != "as shipped" && tc.rule == rule {
				t.Fatal("the case does not change the rules; fix its replacement")
			}
			check := runPromtool(t, []byte(tc.rule), nil, "check", "rules", "wsgateway.rules.yaml")
			if (check != nil) != tc.checkFails {
				t.Errorf("check rules: got %v, want failure %v", check, tc.checkFails)
			}
			test := runPromtool(t, []byte(tc.rule), tests, "test", "rules", "alerts_test.yaml")
			if (test != nil) != tc.tstFail {
				t.Errorf("test rules: got %v, want failure %v", test, tc.tstFail)
			}
		})
	}
}
