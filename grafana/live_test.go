package grafana

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
)

// The live test's settings.
const (
	// rateInterval stands in for Grafana's $__rate_interval: at least four
	// scrape intervals of 1 s.
	rateInterval = "5s"
	// minScrapes is how many scrapes of every node the test waits for, so
	// that every rate over rateInterval has samples.
	minScrapes = 6
	// scrapeWait bounds that wait.
	scrapeWait = 20 * time.Second
)

// panelQuery is one target of one dashboard panel.
type panelQuery struct {
	where, expr string
}

// dashboardQueries lists every panel target of every shipped dashboard.
func dashboardQueries(t *testing.T) []panelQuery {
	t.Helper()
	var out []panelQuery
	for file, d := range dashboardFiles(t) {
		for _, p := range d.panels() {
			for _, tg := range p.Targets {
				out = append(out, panelQuery{fmt.Sprintf("%s %q %s", file, p.Title, tg.RefID), tg.Expr})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].where < out[j].where })
	return out
}

// substitute replaces the template variables in expr as Grafana would:
// $__rate_interval by rateInterval, the others by vars.
func substitute(expr string, vars map[string]string) string {
	expr = strings.ReplaceAll(expr, "$__rate_interval", rateInterval)
	for name, v := range vars {
		expr = strings.ReplaceAll(expr, "${"+name+"}", v)
		expr = strings.ReplaceAll(expr, "$"+name, v)
	}
	return expr
}

// checkQueries: with the variables set to vars, every query parses and
// returns at least one series.
func checkQueries(p promAPI, queries []panelQuery, vars map[string]string) []error {
	var errs []error
	for _, q := range queries {
		expr := substitute(q.expr, vars)
		n, err := p.query(expr)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %v\n\t%s", q.where, err, expr))
		case n == 0:
			errs = append(errs, fmt.Errorf("%s: empty result with %v\n\t%s", q.where, vars, expr))
		}
	}
	return errs
}

// checkFilters: every query that reads a metric returns nothing when any
// one of namespace, pod or zone selects nothing, so each variable really
// narrows it. Reference lines (constants, no metric) are exempt.
func checkFilters(p promAPI, queries []panelQuery, all map[string]string) []error {
	var errs []error
	for _, q := range queries {
		if !metricName.MatchString(q.expr) {
			continue
		}
		for name := range all {
			if !narrows(q.expr, name) {
				continue
			}
			vars := map[string]string{}
			for k, v := range all {
				vars[k] = v
			}
			vars[name] = "no-such-" + name
			n, err := p.query(substitute(q.expr, vars))
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("%s: %v", q.where, err))
			case n != 0:
				errs = append(errs, fmt.Errorf("%s: ignores $%s: %d series with %s=%q", q.where, name, n, name, vars[name]))
			}
		}
	}
	return errs
}

// narrows reports whether the variable name must narrow expr: namespace
// always; pod and zone for gateway series (worker pods have neither a zone
// nor a gateway pod name); topic wherever the query selects by it, which
// every worker query must.
func narrows(expr, name string) bool {
	switch name {
	case "namespace":
		return true
	case "topic":
		return isWorkerQuery(expr) || strings.Contains(expr, "$topic")
	default:
		return !isWorkerQuery(expr)
	}
}

// addGathered adds the sample and family names of reg's metrics (a
// worker's) to names.
func addGathered(names map[string]bool, reg *prometheus.Registry) error {
	fams, err := reg.Gather()
	if err != nil {
		return err
	}
	for _, f := range fams {
		name := f.GetName()
		names[name] = true
		if f.GetType() == dto.MetricType_HISTOGRAM {
			names[name+"_bucket"], names[name+"_sum"], names[name+"_count"] = true, true, true
		}
	}
	return nil
}

// exposedNames returns every sample and family name a node's /metrics
// shows (so a histogram's _bucket, _sum and _count are all there).
func exposedNames(t *testing.T, n node) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for name, f := range n.Metrics(t) {
		names[name] = true
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM:
			names[name+"_bucket"], names[name+"_sum"], names[name+"_count"] = true, true, true
		case dto.MetricType_SUMMARY:
			names[name+"_sum"], names[name+"_count"] = true, true
		}
	}
	return names
}

// checkNamesExposed: every gateway, Go or process metric an expression
// names is on /metrics.
func checkNamesExposed(exposed map[string]bool, exprs map[string]string) []error {
	var errs []error
	for where, expr := range exprs {
		for _, name := range metricName.FindAllString(expr, -1) {
			if !exposed[name] {
				errs = append(errs, fmt.Errorf("%s: %s is not exposed on /metrics", where, name))
			}
		}
	}
	return errs
}

// TestDashboardsAgainstPrometheus runs two gateway nodes on one Redis under a
// little load, a real Prometheus scraping them, and then every panel query of
// every dashboard: each must parse, return data, and honour every variable.
// Every metric a dashboard or an alert names must be on /metrics, and
// Prometheus must evaluate every alert without error. The checks are then
// shown to catch broken queries and alerts.
func TestDashboardsAgainstPrometheus(t *testing.T) {
	// Every program first, so a missing one fails at once.
	promBin := lookPath(t, "prometheus", "prometheus")
	redisURL := redistest.Start(t, redistest.Options{}).URL()
	hooks := startHooksBackend(t)
	events := inboxArgs(startWebhookReceiver(t))
	nodes := []node{startNode(t, "node-a", "zone-a", redisURL, hooks, events...),
		startNode(t, "node-b", "zone-b", redisURL, hooks, events...)}
	workerAddr, workerReg := startWorker(t, redisURL, nodes[0].API)
	startLoad(t, nodes)
	startSenders(t, nodes)
	rules, err := rulesFile(readFile(t, "prometheusrule.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	prom := promAPI{base: startPrometheus(t, promBin, nodes, []string{workerAddr}, rules),
		client: &http.Client{Timeout: 10 * time.Second}}
	waitForScrapes(t, prom, len(nodes))

	queries := dashboardQueries(t)
	all := map[string]string{"namespace": "test", "pod": ".*", "zone": ".*", "topic": ".*"}
	one := map[string]string{"namespace": "test", "pod": "node-b", "zone": "zone-b", "topic": liveTopic}
	exposed := exposedNames(t, nodes[0])
	if err := addGathered(exposed, workerReg); err != nil {
		t.Fatal(err)
	}
	exprs := map[string]string{}
	for _, q := range queries {
		exprs[q.where] = q.expr
	}
	for _, r := range shippedAlerts(t) {
		exprs["alert "+r.Alert] = r.Expr.String()
	}
	t.Run("every query returns data for all nodes", func(t *testing.T) { fail(t, checkQueries(prom, queries, all)) })
	t.Run("every query returns data for one pod and zone", func(t *testing.T) { fail(t, checkQueries(prom, queries, one)) })
	t.Run("every query honours every variable", func(t *testing.T) { fail(t, checkFilters(prom, queries, all)) })
	t.Run("the sums are right", func(t *testing.T) { fail(t, checkValues(prom, queries, all, len(nodes))) })
	t.Run("every metric named is exposed", func(t *testing.T) { fail(t, checkNamesExposed(exposed, exprs)) })
	t.Run("Prometheus evaluates every alert", func(t *testing.T) {
		if err := checkRulesHealthy(prom, len(shippedAlerts(t))); err != nil {
			t.Fatal(err)
		}
	})

	broken := []struct {
		name, expr, want string
	}{
		{"typo in a metric name", strings.Replace(sum("pod", sel("wsgateway_connections")), "connections", "conections", 1),
			"empty result"},
		{"label value that never matches", sum("", rate("wsgateway_messages_sent_total", `kind="push"`)), "empty result"},
		{"syntax error", sum("", sel("wsgateway_connections")) + " +", "status error"},
		{"query ignoring the pod", `sum (wsgateway_connections{namespace=~"$namespace"})`, "ignores $pod"},
		{"query ignoring the zone", sum("", sel("wsgateway_connections")) + " or vector(1)", "ignores $zone"},
		{"per-topic query ignoring the topic", aggregate("max", "topic", sel("wsgateway_inbox_lag_messages", `topic=~"$topic|.+"`)),
			"ignores $topic"},
		{"worker query ignoring the topic", `sum (wsgateway_worker_leases{namespace=~"$namespace", topic=~"$topic|.+"})`,
			"ignores $topic"},
	}
	for _, tc := range broken {
		t.Run("catches "+tc.name, func(t *testing.T) {
			q := []panelQuery{{"broken", tc.expr}}
			err := errors.Join(append(checkQueries(prom, q, all), checkFilters(prom, q, all)...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	t.Run("catches an alert on a metric that does not exist", func(t *testing.T) {
		err := errors.Join(checkNamesExposed(exposed, map[string]string{"alert X": "wsgateway_drainig == 1"})...)
		if err == nil || !strings.Contains(err.Error(), "wsgateway_drainig is not exposed") {
			t.Fatalf("got %v", err)
		}
	})
}

// checkValues: a few panels show exactly what the load put there, so the
// zone join neither drops nor double counts nodes.
func checkValues(p promAPI, queries []panelQuery, vars map[string]string, nodes int) []error {
	want := map[string]func(float64) bool{
		`overview.json "Connections" A`:                           func(v float64) bool { return v == float64(nodes*(subscribersPerNode+sendersPerNode)) },
		`overview.json "Ready nodes" A`:                           func(v float64) bool { return v == float64(nodes) },
		`overview.json "Deliveries/s" A`:                          func(v float64) bool { return v > 0 },
		`capacity.json "Cluster connections against the limit" B`: func(v float64) bool { return v == float64(nodes*1000) },
		// The hooks backend answers, so its breaker is closed.
		`overview.json "Hook breaker by endpoint (worst node)" A`: func(v float64) bool { return v == 0 },
		// The worker dead-letters one message in five and answers the others.
		`inbox.json "Dead letters/s" A`:           func(v float64) bool { return v > 0 },
		`inbox.json "Partitions held by topic" A`: func(v float64) bool { return v == 16 },
	}
	var errs []error
	for _, q := range queries {
		ok, checked := want[q.where]
		if !checked {
			continue
		}
		delete(want, q.where)
		v, err := p.scalar(substitute(q.expr, vars))
		if err != nil || !ok(v) {
			errs = append(errs, fmt.Errorf("%s: %v %v", q.where, v, err))
		}
	}
	for where := range want {
		errs = append(errs, fmt.Errorf("no panel query %s", where))
	}
	return errs
}

// fail reports every error of a check.
func fail(t *testing.T, errs []error) {
	t.Helper()
	for _, err := range errs {
		t.Error(err)
	}
}
