package grafana

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// readFile returns a file of this directory (or of the repository, with a
// ../ path), failing the test when it cannot.
func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decodeStrict decodes one Kubernetes object from YAML as the API server
// does in strict mode: sigs.k8s.io/json with unknown fields disallowed and
// field names matched case-sensitively (encoding/json alone would accept
// "Expr" for "expr"). The file must hold exactly one object of the kind.
func decodeStrict(doc []byte, kind string, into any) error {
	if bytes.Contains(doc, []byte("\n---")) {
		return errors.New("more than one YAML document: one object per file")
	}
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return err
	}
	var tm struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(j, &tm); err != nil {
		return err
	}
	if tm.APIVersion != monitoringv1.SchemeGroupVersion.String() || tm.Kind != kind {
		return fmt.Errorf("apiVersion %q kind %q, want %s %s", tm.APIVersion, tm.Kind,
			monitoringv1.SchemeGroupVersion, kind)
	}
	strict, err := kjson.UnmarshalStrict(j, into, kjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

// checkPodMonitor: the PodMonitor selects the gateway's pods and scrapes
// their admin port's /metrics, with job named after the pods' name label
// (the alerts select up{job="wsgateway"}).
func checkPodMonitor(pm monitoringv1.PodMonitor) []error {
	var errs []error
	if got := pm.Spec.Selector.MatchLabels["app.kubernetes.io/name"]; got != "wsgateway" ||
		len(pm.Spec.Selector.MatchLabels) != 1 || len(pm.Spec.Selector.MatchExpressions) != 0 {
		errs = append(errs, fmt.Errorf("selector %v, want only app.kubernetes.io/name: wsgateway", pm.Spec.Selector))
	}
	if pm.Spec.JobLabel != "app.kubernetes.io/name" {
		errs = append(errs, fmt.Errorf("jobLabel %q, want app.kubernetes.io/name (job=\"wsgateway\")", pm.Spec.JobLabel))
	}
	if len(pm.Spec.PodMetricsEndpoints) != 1 {
		return append(errs, fmt.Errorf("%d endpoints, want the admin port only", len(pm.Spec.PodMetricsEndpoints)))
	}
	ep := pm.Spec.PodMetricsEndpoints[0]
	if ep.Port == nil || *ep.Port != "http-admin" || ep.Path != "/metrics" {
		errs = append(errs, fmt.Errorf("endpoint port %v path %q, want port http-admin path /metrics",
			ep.Port, ep.Path))
	}
	return errs
}

func TestMonitoringObjects(t *testing.T) {
	rule, monitor := string(readFile(t, "prometheusrule.yaml")), string(readFile(t, "podmonitor.yaml"))
	cases := []struct {
		name    string
		rule    string // the PrometheusRule's YAML
		monitor string // the PodMonitor's YAML
		want    string // "": no error
	}{
		{"as shipped", rule, monitor, ""},
		{"misspelled field in a rule", strings.Replace(rule, "annotations:", "anotations:", 1), monitor,
			`unknown field "spec.groups[0].rules[0].anotations"`},
		{"wrong-case field in a rule", strings.Replace(rule, "expr: |", "Expr: |", 1), monitor,
			`unknown field "spec.groups[0].rules[0].Expr"`},
		{"rule of the wrong kind", strings.Replace(rule, "kind: PrometheusRule", "kind: PrometheusRules", 1),
			monitor, `kind "PrometheusRules"`},
		{"two objects in one file", rule + "---\n" + monitor, monitor, "one object per file"},
		{"misspelled field in the monitor", rule, strings.Replace(monitor, "podMetricsEndpoints:",
			"podMetricEndpoints:", 1), `unknown field "spec.podMetricEndpoints"`},
		{"monitor on the wrong path", rule, strings.Replace(monitor, "path: /metrics", "path: /metric", 1),
			"want port http-admin path /metrics"},
		{"monitor on another port", rule, strings.Replace(monitor, "port: http-admin", "port: http-client", 1),
			"want port http-admin path /metrics"},
		{"monitor selecting other pods", rule, strings.Replace(monitor, "app.kubernetes.io/name: wsgateway",
			"app: wsgateway", 1), "want only app.kubernetes.io/name: wsgateway"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var pr monitoringv1.PrometheusRule
			var pm monitoringv1.PodMonitor
			errs := []error{decodeStrict([]byte(tc.rule), "PrometheusRule", &pr),
				decodeStrict([]byte(tc.monitor), "PodMonitor", &pm)}
			if errs[1] == nil {
				errs = append(errs, checkPodMonitor(pm)...)
			}
			err := errors.Join(errs...)
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
