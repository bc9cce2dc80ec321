package grafana

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"sigs.k8s.io/yaml"
)

// unitTests is the part of a promtool unit test file the coverage check
// reads.
type unitTests struct {
	Tests []struct {
		Name          string `json:"name"`
		AlertRuleTest []struct {
			Alertname string `json:"alertname"`
			ExpAlerts []any  `json:"exp_alerts"`
		} `json:"alert_rule_test"`
	} `json:"tests"`
}

// checkCoverage: every alert has a promtool case where it fires and one
// where it stays quiet, and every case names an existing alert.
func checkCoverage(rules []monitoringv1.Rule, tests unitTests) []error {
	fires, quiet, known := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, r := range rules {
		known[r.Alert] = true
	}
	var errs []error
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTest {
			if !known[a.Alertname] {
				errs = append(errs, fmt.Errorf("test %q checks unknown alert %q", tc.Name, a.Alertname))
			}
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				quiet[a.Alertname] = true
			}
		}
	}
	for _, r := range rules {
		if !fires[r.Alert] {
			errs = append(errs, fmt.Errorf("alert %s has no promtool case where it fires", r.Alert))
		}
		if !quiet[r.Alert] {
			errs = append(errs, fmt.Errorf("alert %s has no promtool case where it stays quiet", r.Alert))
		}
	}
	return errs
}

// runbookBase finds the runbook URL base declared once in the rule file's
// header comment ("# runbook base: URL").
var runbookBase = regexp.MustCompile(`(?m)^#\s+runbook base:\s+(\S+)$`)

// checkAlert: an alert is named WSGateway..., has severity critical or
// warning, a summary and a description, and a runbook_url that is the base
// plus the anchor of its section under "## Alerts" in docs/operations.md.
func checkAlert(r monitoringv1.Rule, base string, sections map[string]bool) []error {
	var errs []error
	if !strings.HasPrefix(r.Alert, "WSGateway") {
		return []error{fmt.Errorf("rule %q%q: every rule is an alert named WSGateway...", r.Alert, r.Record)}
	}
	if s := r.Labels["severity"]; s != "critical" && s != "warning" {
		errs = append(errs, fmt.Errorf("%s: severity %q, want critical or warning", r.Alert, s))
	}
	for _, a := range []string{"summary", "description"} {
		if strings.TrimSpace(r.Annotations[a]) == "" {
			errs = append(errs, fmt.Errorf("%s has no %s", r.Alert, a))
		}
	}
	anchor := strings.ToLower(r.Alert)
	if got, want := r.Annotations["runbook_url"], base+"#"+anchor; got != want {
		errs = append(errs, fmt.Errorf("%s: runbook_url %q, want %q", r.Alert, got, want))
	}
	if !sections[anchor] {
		errs = append(errs, fmt.Errorf("%s: docs/operations.md has no section \"### %s\" under \"## Alerts\"",
			r.Alert, r.Alert))
	}
	return errs
}

// alertSections returns the GitHub anchors of the "### " headings in the
// "## Alerts" section of a Markdown page.
func alertSections(md string) map[string]bool {
	out := map[string]bool{}
	in := false
	for _, line := range strings.Split(md, "\n") {
		switch {
		case strings.HasPrefix(line, "## "):
			in = strings.TrimSpace(line) == "## Alerts"
		case in && strings.HasPrefix(line, "### "):
			out[githubAnchor(strings.TrimPrefix(line, "### "))] = true
		}
	}
	return out
}

// githubAnchor is the id GitHub gives a heading: lower case, punctuation
// dropped, spaces turned into hyphens.
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || ('a' <= r && r <= 'z') || ('0' <= r && r <= '9'):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// shippedAlerts decodes the rules of prometheusrule.yaml.
func shippedAlerts(t *testing.T) []monitoringv1.Rule {
	t.Helper()
	var pr monitoringv1.PrometheusRule
	if err := decodeStrict(readFile(t, "prometheusrule.yaml"), "PrometheusRule", &pr); err != nil {
		t.Fatal(err)
	}
	var rules []monitoringv1.Rule
	for _, g := range pr.Spec.Groups {
		rules = append(rules, g.Rules...)
	}
	return rules
}

// TestRequiredAlerts: the alerts the observability issue asks for exist.
func TestRequiredAlerts(t *testing.T) {
	shipped := map[string]bool{}
	for _, r := range shippedAlerts(t) {
		shipped[r.Alert] = true
	}
	for _, name := range []string{"WSGatewayRedisBreakerOpen", "WSGatewayDeliveryLagHigh", "WSGatewaySlowConsumers",
		"WSGatewayRecoveryFailures", "WSGatewayConnectionsNearLimit", "WSGatewayDrainingTooLong",
		"WSGatewayNoNodesReady", "WSGatewayHookBreakerOpen",
		// issue 13: the inbox and the lifecycle events
		"WSGatewayInboxOldestPending", "WSGatewayInboxDeadLetters", "WSGatewayWebhookFailing"} {
		if !shipped[name] {
			t.Errorf("alert %s is missing", name)
		}
	}
}

// TestAlertsDocumentedAndTested: the shipped alerts are covered by promtool
// cases and documented; each broken copy is reported.
func TestAlertsDocumentedAndTested(t *testing.T) {
	m := runbookBase.FindSubmatch(readFile(t, "prometheusrule.yaml"))
	if m == nil {
		t.Fatal(`prometheusrule.yaml does not declare "# runbook base: URL" in its header`)
	}
	base, sections := string(m[1]), alertSections(string(readFile(t, "../docs/operations.md")))
	var tests unitTests
	if err := yaml.Unmarshal(readFile(t, "tests/alerts_test.yaml"), &tests); err != nil {
		t.Fatal(err)
	}
	check := func(rules []monitoringv1.Rule, tests unitTests, sections map[string]bool) error {
		errs := checkCoverage(rules, tests)
		for _, r := range rules {
			errs = append(errs, checkAlert(r, base, sections)...)
		}
		return errors.Join(errs...)
	}
	if err := check(shippedAlerts(t), tests, sections); err != nil {
		t.Fatalf("as shipped: %v", err)
	}

	cases := []struct {
		name    string
		breaks  func(rules []monitoringv1.Rule, tests *unitTests, sections map[string]bool)
		wantErr string
	}{
		{"no severity", func(r []monitoringv1.Rule, _ *unitTests, _ map[string]bool) {
			delete(r[0].Labels, "severity")
		}, `severity ""`},
		{"no description", func(r []monitoringv1.Rule, _ *unitTests, _ map[string]bool) {
			delete(r[1].Annotations, "description")
		}, "has no description"},
		{"runbook elsewhere", func(r []monitoringv1.Rule, _ *unitTests, _ map[string]bool) {
			r[2].Annotations["runbook_url"] = base + "#alerts"
		}, "runbook_url"},
		{"section missing from the runbook", func(r []monitoringv1.Rule, _ *unitTests, s map[string]bool) {
			delete(s, strings.ToLower(r[3].Alert))
		}, "docs/operations.md has no section"},
		{"no quiet case", func(r []monitoringv1.Rule, u *unitTests, _ map[string]bool) {
			for i := range u.Tests {
				for j := range u.Tests[i].AlertRuleTest {
					if a := &u.Tests[i].AlertRuleTest[j]; a.Alertname == r[4].Alert && len(a.ExpAlerts) == 0 {
						a.ExpAlerts = []any{"firing"}
					}
				}
			}
		}, "has no promtool case where it stays quiet"},
		{"no firing case", func(r []monitoringv1.Rule, u *unitTests, _ map[string]bool) {
			for i := range u.Tests {
				for j := range u.Tests[i].AlertRuleTest {
					if a := &u.Tests[i].AlertRuleTest[j]; a.Alertname == r[5].Alert {
						a.ExpAlerts = nil
					}
				}
			}
		}, "has no promtool case where it fires"},
		{"test of a renamed alert", func(r []monitoringv1.Rule, _ *unitTests, _ map[string]bool) {
			r[6].Alert += "Renamed"
		}, "checks unknown alert"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rules := shippedAlerts(t)
			var u unitTests
			_ = yaml.Unmarshal(readFile(t, "tests/alerts_test.yaml"), &u)
			s := alertSections(string(readFile(t, "../docs/operations.md")))
			tc.breaks(rules, &u, s)
			if err := check(rules, u, s); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}
