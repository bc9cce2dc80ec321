package broker

import "github.com/prometheus/client_golang/prometheus"

// metricOps are the op label values of the Redis metrics, created at zero at
// registration so that dashboards and alerts never meet an absent series.
var metricOps = []string{
	"publish", "history", "subscribe", "unsubscribe", "presence",
	"presence_add", "presence_remove", "disconnect", "nodes", "pubsub",
}

// Metrics are the brokers' metrics. The Redis ones exist on every node, with
// or without Redis (docs/operations.md#metrics-to-watch), so the gateway
// registers them all whatever the broker; on a node without Redis they stay at zero, and so do the in-process
// broker's on a node with Redis. The collectors are safe for concurrent use;
// whoever creates Metrics hands it to the broker that updates it.
type Metrics struct {
	// BreakerState is the Redis circuit breaker's state: 0 closed,
	// 1 half-open, 2 open.
	BreakerState prometheus.Gauge
	// Errors counts failed Redis operations, by op.
	Errors *prometheus.CounterVec
	// OpDuration observes how long Redis operations take, by op.
	OpDuration *prometheus.HistogramVec
	// HistoryEvictions counts the channels the in-process broker evicted
	// to stay within MemoryOptions.MaxChannels.
	HistoryEvictions prometheus.Counter
	// Channels is the number of channels the in-process broker holds state
	// for (position, history, idempotency keys).
	Channels prometheus.Gauge
}

// NewMetrics creates the broker metrics, registers them on reg (it panics on
// a collision, like prometheus.MustRegister) and creates every op series at
// zero.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		BreakerState: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wsgateway_redis_breaker_state",
			Help: "State of the Redis circuit breaker: 0 closed, 1 half-open, 2 open.",
		}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wsgateway_redis_errors_total",
			Help: "Redis operations that failed, by op.",
		}, []string{"op"}),
		OpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "wsgateway_redis_op_duration_seconds",
			Help: "Duration of Redis operations, by op.",
			Buckets: []float64{
				0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
				0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
			},
		}, []string{"op"}),
		HistoryEvictions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wsgateway_history_evictions_total",
			Help: "Channels the in-process broker evicted (position, history and idempotency keys) to stay within --history-max-channels.",
		}),
		Channels: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wsgateway_broker_channels",
			Help: "Channels the in-process broker holds state for; 0 with Redis.",
		}),
	}
	reg.MustRegister(m.BreakerState, m.Errors, m.OpDuration, m.HistoryEvictions, m.Channels)
	for _, op := range metricOps {
		m.Errors.WithLabelValues(op)
		m.OpDuration.WithLabelValues(op)
	}
	return m
}
