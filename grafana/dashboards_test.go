package grafana

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// dashboardFile is the part of a dashboard's JSON that the checks read.
type dashboardFile struct {
	UID        string      `json:"uid"`
	Title      string      `json:"title"`
	Panels     []panelJSON `json:"panels"`
	Templating struct {
		List []variableJSON `json:"list"`
	} `json:"templating"`
}

type panelJSON struct {
	ID          int            `json:"id"`
	Type        string         `json:"type"`
	Title       string         `json:"title"`
	Description string         `json:"description"`
	Datasource  *datasourceRef `json:"datasource"`
	Targets     []targetJSON   `json:"targets"`
	Panels      []panelJSON    `json:"panels"` // a collapsed row's panels
}

type targetJSON struct {
	RefID string `json:"refId"`
	Expr  string `json:"expr"`
}

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type variableJSON struct {
	Type       string         `json:"type"`
	Name       string         `json:"name"`
	Query      any            `json:"query"`
	Datasource *datasourceRef `json:"datasource"`
}

// dashboardFiles reads every dashboard under dashboards/, by file name.
func dashboardFiles(t *testing.T) map[string]dashboardFile {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("dashboards", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no dashboards under dashboards/ (%v)", err)
	}
	out := map[string]dashboardFile{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboardFile
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out[filepath.Base(p)] = d
	}
	return out
}

// panels lists the dashboard's panels other than rows, including those of
// collapsed rows.
func (d dashboardFile) panels() []panelJSON {
	var out []panelJSON
	for _, p := range d.Panels {
		if p.Type == "row" {
			out = append(out, p.Panels...)
			continue
		}
		out = append(out, p)
	}
	return out
}

// The expressions' vocabulary.
var (
	// metricName matches the names of the gateway's series, Go runtime
	// and process collectors included.
	metricName = regexp.MustCompile(`\b(?:wsgateway|go|process)_[a-z0-9_]+\b`)
	// selector is a metric name and its matchers, if any.
	selector = regexp.MustCompile(`\b((?:wsgateway|go|process)_[a-z0-9_]+)\b(\{[^}]*\})?`)
	// zoneJoin is the join through wsgateway_build_info that filters by zone.
	zoneJoin = regexp.MustCompile(`on \(namespace, pod\) group_left \(zone\) wsgateway_build_info\{[^}]*zone=~"\$zone"[^}]*\}`)
	// variableUse is a Grafana variable in an expression: $name or ${name}.
	variableUse = regexp.MustCompile(`\$\{?(\w+)\}?`)
	// rangeVector is the range of a range-vector selector.
	rangeVector = regexp.MustCompile(`\[([^\]]*)\]`)
)

// builtins are the Grafana variables an expression may use without the
// dashboard defining them.
var builtins = map[string]bool{"__rate_interval": true, "__interval": true, "__range": true}

// checkDashboard lists what is wrong with a dashboard: a panel without a
// description or a query; a missing template variable; an expression that
// does not filter every selector by namespace and pod, or not by zone through
// wsgateway_build_info; a range other than $__rate_interval; a data source
// other than the variable.
func checkDashboard(d dashboardFile) []error {
	errs := checkVariables(d)
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	ids := map[int]bool{}
	for _, p := range d.panels() {
		where := fmt.Sprintf("panel %q", p.Title)
		if ids[p.ID] {
			errs = append(errs, fmt.Errorf("%s: id %d is used twice", where, p.ID))
		}
		ids[p.ID] = true
		if strings.TrimSpace(p.Description) == "" {
			errs = append(errs, fmt.Errorf("%s has no description", where))
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			errs = append(errs, fmt.Errorf("%s: data source %v, want the ${datasource} variable", where, p.Datasource))
		}
		if len(p.Targets) == 0 {
			errs = append(errs, fmt.Errorf("%s has no query", where))
		}
		for _, tg := range p.Targets {
			for _, err := range checkExpr(tg.Expr, vars) {
				errs = append(errs, fmt.Errorf("%s, query %s: %w", where, tg.RefID, err))
			}
		}
	}
	return errs
}

// checkVariables: the datasource variable selects among Prometheus data
// sources; namespace, pod and zone take their values from
// wsgateway_build_info through that data source.
func checkVariables(d dashboardFile) []error {
	byName := map[string]variableJSON{}
	for _, v := range d.Templating.List {
		byName[v.Name] = v
	}
	var errs []error
	if v, ok := byName["datasource"]; !ok || v.Type != "datasource" || v.Query != "prometheus" {
		errs = append(errs, errors.New(`no variable "datasource" of type datasource over prometheus`))
	}
	for _, name := range []string{"namespace", "pod", "zone"} {
		v, ok := byName[name]
		q, _ := v.Query.(string)
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("no variable %q", name))
		case v.Type != "query" || !strings.HasPrefix(q, "label_values(wsgateway_build_info") ||
			!strings.HasSuffix(q, ", "+name+")"):
			errs = append(errs, fmt.Errorf("variable %q: %s %q, want label_values(wsgateway_build_info..., %s)",
				name, v.Type, q, name))
		case v.Datasource == nil || v.Datasource.UID != "${datasource}":
			errs = append(errs, fmt.Errorf("variable %q does not use the ${datasource} variable", name))
		}
	}
	return errs
}

// checkExpr checks one panel query. An expression without any metric (a
// reference line such as vector(100000)) needs no filter.
func checkExpr(expr string, vars map[string]bool) []error {
	var errs []error
	if strings.TrimSpace(expr) == "" {
		return []error{errors.New("empty expression")}
	}
	for _, m := range variableUse.FindAllStringSubmatch(expr, -1) {
		if !vars[m[1]] && !builtins[m[1]] {
			errs = append(errs, fmt.Errorf("uses undefined variable $%s", m[1]))
		}
	}
	if !metricName.MatchString(expr) {
		return errs
	}
	if isWorkerQuery(expr) {
		return append(errs, checkWorkerExpr(expr)...)
	}
	for _, m := range selector.FindAllStringSubmatch(expr, -1) {
		for _, want := range []string{`namespace=~"$namespace"`, `pod=~"$pod"`} {
			if !strings.Contains(m[2], want) {
				errs = append(errs, fmt.Errorf("selector %s%s lacks %s", m[1], m[2], want))
			}
		}
	}
	if !zoneJoin.MatchString(expr) {
		errs = append(errs, fmt.Errorf("does not filter by zone through the wsgateway_build_info join: %s", expr))
	}
	for _, m := range rangeVector.FindAllStringSubmatch(expr, -1) {
		if m[1] != "$__rate_interval" {
			errs = append(errs, fmt.Errorf("range [%s], want [$__rate_interval]", m[1]))
		}
	}
	return errs
}

// workerMetric names the series of the worker library (service/worker),
// scraped from the backends' worker pods.
var workerMetric = regexp.MustCompile(`^wsgateway_worker_`)

// isWorkerQuery reports whether expr reads any worker series.
func isWorkerQuery(expr string) bool {
	for _, m := range selector.FindAllStringSubmatch(expr, -1) {
		if workerMetric.MatchString(m[1]) {
			return true
		}
	}
	return false
}

// checkWorkerExpr checks a query over worker series. Worker pods have no
// wsgateway_build_info (no zone) and are not gateway pods, so the query
// filters by namespace and topic instead, and reads no gateway series (a
// join with them would drop every worker series).
func checkWorkerExpr(expr string) []error {
	var errs []error
	for _, m := range selector.FindAllStringSubmatch(expr, -1) {
		if !workerMetric.MatchString(m[1]) {
			errs = append(errs, fmt.Errorf("mixes worker series with the gateway's %s", m[1]))
			continue
		}
		for _, want := range []string{`namespace=~"$namespace"`, `topic=~"$topic"`} {
			if !strings.Contains(m[2], want) {
				errs = append(errs, fmt.Errorf("selector %s%s lacks %s", m[1], m[2], want))
			}
		}
	}
	for _, m := range rangeVector.FindAllStringSubmatch(expr, -1) {
		if m[1] != "$__rate_interval" {
			errs = append(errs, fmt.Errorf("range [%s], want [$__rate_interval]", m[1]))
		}
	}
	return errs
}

func TestDashboardsShipped(t *testing.T) {
	files := dashboardFiles(t)
	for _, want := range []string{"overview.json", "capacity.json", "inbox.json"} {
		if _, ok := files[want]; !ok {
			t.Errorf("dashboards/%s is missing", want)
		}
	}
	uids := map[string]string{}
	for name, d := range files {
		if other, dup := uids[d.UID]; dup || d.UID == "" {
			t.Errorf("%s: uid %q is empty or also used by %s", name, d.UID, other)
		}
		uids[d.UID] = name
		for _, err := range checkDashboard(d) {
			t.Errorf("%s: %v", name, err)
		}
		if len(d.panels()) == 0 {
			t.Errorf("%s has no panels", name)
		}
	}
}

// TestCheckDashboardCatches: each broken copy of the Overview dashboard is
// reported, with the expected complaint.
func TestCheckDashboardCatches(t *testing.T) {
	first := func(d *dashboardFile) *panelJSON {
		for i := range d.Panels {
			if d.Panels[i].Type != "row" {
				return &d.Panels[i]
			}
		}
		t.Fatal("no panel")
		return nil
	}
	cases := []struct {
		name   string
		breaks func(d *dashboardFile)
		want   string
	}{
		{"panel without description", func(d *dashboardFile) { first(d).Description = "" }, "has no description"},
		{"panel without query", func(d *dashboardFile) { first(d).Targets = nil }, "has no query"},
		{"fixed data source", func(d *dashboardFile) { first(d).Datasource = &datasourceRef{"prometheus", "abc"} },
			"want the ${datasource} variable"},
		{"no zone variable", func(d *dashboardFile) { dropVariable(d, "zone") }, `no variable "zone"`},
		{"no datasource variable", func(d *dashboardFile) { dropVariable(d, "datasource") }, `no variable "datasource"`},
		{"selector without pod filter", func(d *dashboardFile) {
			first(d).Targets[0].Expr = `sum (wsgateway_connections{namespace=~"$namespace"})`
		}, `lacks pod=~"$pod"`},
		{"no zone join", func(d *dashboardFile) {
			first(d).Targets[0].Expr = `sum (wsgateway_connections{namespace=~"$namespace", pod=~"$pod"})`
		}, "does not filter by zone"},
		{"fixed rate range", func(d *dashboardFile) {
			tg := &first(d).Targets[0]
			tg.Expr = strings.Replace(inZone(rate("wsgateway_connects_total")), "$__rate_interval", "5m", 1)
		}, "range [5m]"},
		{"undefined variable", func(d *dashboardFile) {
			first(d).Targets[0].Expr = strings.Replace(first(d).Targets[0].Expr, "$pod", "$instance", 1)
		}, "undefined variable $instance"},
	}
	worker := func(d *dashboardFile) *targetJSON {
		for i := range d.Panels {
			for j := range d.Panels[i].Targets {
				if isWorkerQuery(d.Panels[i].Targets[j].Expr) {
					return &d.Panels[i].Targets[j]
				}
			}
		}
		t.Fatal("no worker query")
		return nil
	}
	workerCases := []struct {
		name   string
		breaks func(d *dashboardFile)
		want   string
	}{
		{"worker selector without topic filter", func(d *dashboardFile) {
			worker(d).Expr = `sum (wsgateway_worker_leases{namespace=~"$namespace"})`
		}, `lacks topic=~"$topic"`},
		{"worker series joined with the gateway's", func(d *dashboardFile) {
			worker(d).Expr = inZone(workerSel("wsgateway_worker_leases"))
		}, "mixes worker series with the gateway's wsgateway_build_info"},
		{"worker rate over a fixed range", func(d *dashboardFile) {
			worker(d).Expr = strings.Replace(workerRate("wsgateway_worker_handled_total"), "$__rate_interval", "1h", 1)
		}, "range [1h]"},
	}
	for _, tc := range workerCases {
		t.Run(tc.name, func(t *testing.T) {
			d := dashboardFiles(t)["inbox.json"]
			if errs := checkDashboard(d); len(errs) != 0 {
				t.Fatalf("the shipped dashboard already fails: %v", errs)
			}
			tc.breaks(&d)
			if err := errors.Join(checkDashboard(d)...); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	shipped := dashboardFiles(t)["overview.json"]
	if errs := checkDashboard(shipped); len(errs) != 0 {
		t.Fatalf("the shipped dashboard already fails: %v", errs)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := dashboardFiles(t)["overview.json"] // a fresh copy
			tc.breaks(&d)
			if err := errors.Join(checkDashboard(d)...); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func dropVariable(d *dashboardFile, name string) {
	var keep []variableJSON
	for _, v := range d.Templating.List {
		if v.Name != name {
			keep = append(keep, v)
		}
	}
	d.Templating.List = keep
}
