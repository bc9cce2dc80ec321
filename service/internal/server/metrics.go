package server

import "github.com/prometheus/client_golang/prometheus"

// The server's results of wsgateway_connects_total: the upgrades it refuses.
// The sessions count the others (session.ConnectOK and its kin).
const (
	refusedOverLimit    = "over_limit"   // --max-connections: 503
	refusedRateLimited  = "rate_limited" // --connect-rate: 429
	refusedOrigin       = "origin"       // refused Origin: 403
	refusedBadHandshake = "bad_handshake"
	refusedDraining     = "draining"
)

type metrics struct {
	draining prometheus.Gauge
	apiCalls *prometheus.CounterVec
	maxConns prometheus.Gauge
	refused  map[string]prometheus.Counter // by result, in wsgateway_connects_total
}

// newMetrics registers the server's series on reg, and counts its
// refusals in connects (session.NewConnects, shared with the sessions).
func newMetrics(reg prometheus.Registerer, connects *prometheus.CounterVec) *metrics {
	m := &metrics{
		draining: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wsgateway_draining", Help: "1 while the node drains after SIGTERM."}),
		apiCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wsgateway_api_requests_total", Help: "Backend API requests, by route and status code."},
			[]string{"route", "code"}),
		maxConns: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wsgateway_max_connections", Help: "The --max-connections limit, for headroom on dashboards and alerts."}),
		refused: map[string]prometheus.Counter{},
	}
	for _, r := range []string{refusedOverLimit, refusedRateLimited, refusedOrigin, refusedBadHandshake, refusedDraining} {
		m.refused[r] = connects.WithLabelValues(r) // every result at zero from the start
	}
	reg.MustRegister(m.draining, m.apiCalls, m.maxConns)
	return m
}
