package hub

import "github.com/prometheus/client_golang/prometheus"

// LatencyBuckets span a real-time system's range: from 100 µs to 10 s.
var LatencyBuckets = []float64{
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
}

type metrics struct {
	subscriptions  prometheus.Gauge
	publishLatency prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		subscriptions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wsgateway_subscriptions",
			Help: "Channel subscriptions held by local connections.",
		}),
		publishLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "wsgateway_publish_latency_seconds",
			Help:    "Time from accepting a publish to handing it to local subscribers' send queues.",
			Buckets: LatencyBuckets,
		}),
	}
	reg.MustRegister(m.subscriptions, m.publishLatency)
	return m
}
