package hooks

import "github.com/prometheus/client_golang/prometheus"

// Hook names: the path appended to an endpoint's URL, the body's "hook" and
// the metrics' hook label.
const (
	HookConnect   = "connect"
	HookSubscribe = "subscribe"
	HookPublish   = "publish"
	HookRPC       = "rpc"
)

// Results of a call, the values of wsgateway_hook_requests_total's result.
const (
	resultOK          = "ok"
	resultError       = "error"
	resultDisconnect  = "disconnect"
	resultFailed      = "failed"
	resultBreakerOpen = "breaker_open"
)

var (
	allHooks   = []string{HookConnect, HookSubscribe, HookPublish, HookRPC}
	allResults = []string{resultOK, resultError, resultDisconnect, resultFailed, resultBreakerOpen}
)

// durationBuckets span a local backend's milliseconds up to the largest
// timeout, 30 s.
var durationBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

type metrics struct {
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	breakerState *prometheus.GaugeVec
}

// newMetrics registers the §6 series on reg, every hook × result at zero,
// so dashboards and alerts see them from startup.
func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wsgateway_hook_requests_total",
			Help: "Hook calls, by hook and result (ok, error, disconnect, failed, breaker_open).",
		}, []string{"hook", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "wsgateway_hook_duration_seconds",
			Help:    "Duration of hook calls that reached the transport (not those refused by an open breaker).",
			Buckets: durationBuckets,
		}, []string{"hook"}),
		breakerState: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "wsgateway_hook_breaker_state",
			Help: "Circuit breaker state per hook endpoint: 0 closed, 1 half-open, 2 open.",
		}, []string{"endpoint"}),
	}
	reg.MustRegister(m.requests, m.duration, m.breakerState)
	for _, h := range allHooks {
		m.duration.WithLabelValues(h)
		for _, r := range allResults {
			m.requests.WithLabelValues(h, r)
		}
	}
	return m
}
