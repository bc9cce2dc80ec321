// Package grafana builds the wsgateway Grafana dashboards, and its tests check
// everything in this directory against real tools: the dashboards' queries
// against a live Prometheus scraping two gateway nodes and an inbox worker
// (service/worker), the alerts with
// promtool, the monitoring objects against the prometheus-operator types, and
// the kustomization by rendering it.
//
// The directory is a kustomization of its own, included by the deployment
// overlays: one ConfigMap per dashboard for the Grafana sidecar, the
// PrometheusRule with the alerts, and the PodMonitor for the admin port.
//
// dashboards/*.json are generated from this package's code and kept in git,
// so the kustomization needs no build step; after changing a dashboard, run
//
//	go test ./grafana -run TestDashboardsUpToDate -update
//
// and commit the JSON with the code.
package grafana
