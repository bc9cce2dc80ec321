package grafana

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// maxConfigMapBytes keeps a dashboard ConfigMap under what `kubectl apply`
// can store in its last-applied-configuration annotation (256 KiB).
const maxConfigMapBytes = 256 << 10

// render builds the kustomization in dir as `kubectl apply -k` would.
func render(dir string) (resmap.ResMap, error) {
	return krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
}

// checkRendered: the kustomization yields one dashboard ConfigMap per
// generated dashboard (labelled for the sidecar, holding the file as it is
// in git, unhashed name), the PrometheusRule and the PodMonitor, each with
// the app.kubernetes.io labels; and nothing else.
func checkRendered(m resmap.ResMap, dir string, dashboards []string) []error {
	var errs []error
	want := map[string]bool{"PrometheusRule/wsgateway": true, "PodMonitor/wsgateway": true}
	for _, file := range dashboards {
		want["ConfigMap/wsgateway-dashboard-"+strings.TrimSuffix(file, ".json")] = true
	}
	for _, r := range m.Resources() {
		id := r.GetKind() + "/" + r.GetName()
		if !want[id] {
			errs = append(errs, fmt.Errorf("unexpected object %s", id))
			continue
		}
		delete(want, id)
		labels := r.GetLabels()
		for _, l := range []string{"app.kubernetes.io/name", "app.kubernetes.io/part-of", "app.kubernetes.io/component"} {
			if labels[l] == "" {
				errs = append(errs, fmt.Errorf("%s has no label %s", id, l))
			}
		}
		if r.GetKind() == "ConfigMap" {
			errs = append(errs, checkDashboardConfigMap(id, labels, r.GetDataMap(), dir)...)
		}
	}
	for id := range want {
		errs = append(errs, fmt.Errorf("%s is not rendered", id))
	}
	return errs
}

func checkDashboardConfigMap(id string, labels, data map[string]string, dir string) []error {
	var errs []error
	if labels["grafana_dashboard"] != "1" {
		errs = append(errs, fmt.Errorf(`%s lacks the label grafana_dashboard: "1" the sidecar looks for`, id))
	}
	file := strings.TrimPrefix(id, "ConfigMap/wsgateway-dashboard-") + ".json"
	disk, err := os.ReadFile(filepath.Join(dir, "dashboards", file))
	if err != nil {
		return append(errs, err)
	}
	if len(data) != 1 || data[file] != string(disk) {
		errs = append(errs, fmt.Errorf("%s does not hold exactly dashboards/%s", id, file))
	}
	if len(disk) > maxConfigMapBytes {
		errs = append(errs, fmt.Errorf("%s: %d bytes, more than kubectl apply can annotate", id, len(disk)))
	}
	return errs
}

// copyDir copies this kustomization (its YAML and dashboards) into a fresh
// directory, where a case may break it.
func copyDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := []string{"kustomization.yaml", "prometheusrule.yaml", "podmonitor.yaml"}
	dashboards, _ := filepath.Glob(filepath.Join("dashboards", "*.json"))
	if err := os.Mkdir(filepath.Join(dir, "dashboards"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range append(files, dashboards...) {
		if err := os.WriteFile(filepath.Join(dir, f), readFile(t, f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestKustomization(t *testing.T) {
	generated, err := Dashboards()
	if err != nil {
		t.Fatal(err)
	}
	var dashboards []string
	for f := range generated {
		dashboards = append(dashboards, f)
	}
	edit := func(old, new string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			p := filepath.Join(dir, "kustomization.yaml")
			b := string(readFile(t, p))
			if !strings.Contains(b, old) {
				t.Fatalf("kustomization.yaml has no %q", old)
			}
			if err := os.WriteFile(p, []byte(strings.Replace(b, old, new, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	cases := []struct {
		name   string
		breaks func(t *testing.T, dir string)
		want   string // "": renders cleanly
	}{
		{"as shipped", func(*testing.T, string) {}, ""},
		{"dashboard not generated", edit("  - name: wsgateway-dashboard-capacity\n    files:\n      - dashboards/capacity.json\n", ""),
			"ConfigMap/wsgateway-dashboard-capacity is not rendered"},
		{"monitor not listed", edit("  - podmonitor.yaml\n", ""), "PodMonitor/wsgateway is not rendered"},
		{"rule not listed", edit("  - prometheusrule.yaml\n", ""), "PrometheusRule/wsgateway is not rendered"},
		{"no sidecar label", edit(`    grafana_dashboard: "1"`, `    grafana_dashboards: "1"`), "lacks the label grafana_dashboard"},
		{"hashed names", edit("disableNameSuffixHash: true", "disableNameSuffixHash: false"), "unexpected object ConfigMap/"},
		{"no common labels", edit("app.kubernetes.io/part-of: wsgateway", "part-of: wsgateway"),
			"has no label app.kubernetes.io/part-of"},
		{"dashboard file missing", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "dashboards", "overview.json")); err != nil {
				t.Fatal(err)
			}
		}, "overview.json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t)
			tc.breaks(t, dir)
			m, err := render(dir)
			if err == nil {
				err = errors.Join(checkRendered(m, dir, dashboards)...)
			}
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
