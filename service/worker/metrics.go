package worker

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are one Consumer's, labelled with its topic and consumer group.
type metrics struct {
	handled    *prometheus.CounterVec // result: ok | retry | dead
	duration   prometheus.Histogram
	leases     prometheus.Gauge
	leasesLost prometheus.Counter
}

// newMetrics registers the consumer's metrics on reg (none when reg is
// nil). lag is read at scrape time.
func newMetrics(reg prometheus.Registerer, topic, group string, lag func() float64) (*metrics, error) {
	labels := prometheus.Labels{"topic": topic, "group": group}
	m := &metrics{
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wsgateway_worker_handled_total", ConstLabels: labels,
			Help: "Handler runs by result: ok (acknowledged), retry (failed, will run again), dead (moved to the dead letters).",
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "wsgateway_worker_handler_duration_seconds", ConstLabels: labels,
			Help:    "Time of one handler run.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9),
		}),
		leases: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wsgateway_worker_leases", ConstLabels: labels,
			Help: "Partitions whose lease this worker holds.",
		}),
		leasesLost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wsgateway_worker_leases_lost_total", ConstLabels: labels,
			Help: "Leases lost before release (renewal failed or taken over): the partition stopped at once.",
		}),
	}
	for _, r := range []string{"ok", "retry", "dead"} {
		m.handled.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	lagFunc := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "wsgateway_worker_lag", ConstLabels: labels,
		Help: "Entries not yet acknowledged in the partitions this worker holds (as of the last second).",
	}, lag)
	for _, c := range []prometheus.Collector{m.handled, m.duration, m.leases, m.leasesLost, lagFunc} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("worker metrics: %w", err)
		}
	}
	return m, nil
}
