package server

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	draining prometheus.Gauge
	apiCalls *prometheus.CounterVec
	maxConns prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		draining: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wsgateway_draining", Help: "1 while the node drains after SIGTERM."}),
		apiCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wsgateway_api_requests_total", Help: "Backend API requests, by route and status code."},
			[]string{"route", "code"}),
		maxConns: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wsgateway_max_connections", Help: "The --max-connections limit, for headroom on dashboards and alerts."}),
	}
	reg.MustRegister(m.draining, m.apiCalls, m.maxConns)
	return m
}
