package grafana

import "strings"

// The gateway exposes its zone (and node name) only on wsgateway_build_info,
// one series per node, never on every series (cardinality). So every query
// here selects by the namespace and pod variables on each selector, and by
// zone through a join with wsgateway_build_info, which also brings the zone
// label in for legends and "by (zone)" sums. The tests check that every
// query does both.

// sel is a selector of metric filtered by the namespace and pod variables
// and any extra matchers.
func sel(metric string, matchers ...string) string {
	ms := append([]string{`namespace=~"$namespace"`, `pod=~"$pod"`}, matchers...)
	return metric + "{" + strings.Join(ms, ", ") + "}"
}

// rate is the per-second rate of a counter over Grafana's $__rate_interval,
// which is at least four scrape intervals, so a rate never goes missing.
func rate(metric string, matchers ...string) string {
	return "rate(" + sel(metric, matchers...) + "[$__rate_interval])"
}

// inZone keeps the series of expr whose node is in the selected zones and
// adds their zone label. wsgateway_build_info is always 1, so the values do
// not change.
func inZone(expr string) string {
	return "(" + expr + ") * on (namespace, pod) group_left (zone) " +
		sel("wsgateway_build_info", `zone=~"$zone"`)
}

// sum adds up expr's series, restricted to the selected zones, keeping the
// labels listed in by ("" sums everything).
func sum(by, expr string) string { return aggregate("sum", by, expr) }

// aggregate applies the aggregation op (sum, max, min, count) to expr's
// series in the selected zones, keeping the labels listed in by.
func aggregate(op, by, expr string) string {
	if by == "" {
		return op + " (" + inZone(expr) + ")"
	}
	return op + " by (" + by + ") (" + inZone(expr) + ")"
}

// quantile is the q-quantile of a histogram over $__rate_interval, from the
// buckets of the selected nodes, kept apart by the labels in by (plus le).
func quantile(q, histogram, by string) string {
	le := "le"
	if by != "" {
		le = by + ", le"
	}
	return "histogram_quantile(" + q + ", sum by (" + le + ") (" + inZone(rate(histogram+"_bucket")) + "))"
}
