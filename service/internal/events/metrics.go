package events

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wsgateway/wsgateway/service/internal/broker"
)

// Types lists every event type, so that each counter exists at zero.
var Types = []string{
	"connection.opened", "connection.closed", "user.online", "user.offline",
	"channel.occupied", "channel.vacated", "presence.join", "presence.leave",
}

// Webhook delivery results.
const (
	DeliveryOK     = "ok"     // the receiver answered 2xx
	DeliveryFailed = "failed" // an attempt failed; the batch is retried
	DeliveryDead   = "dead"   // the batch was retried for the whole window and moved to the dead letters
)

// Metrics are the events' series. They exist from startup on every node,
// with or without Redis or a webhook, so that dashboards and alerts see
// zeros rather than gaps.
type Metrics struct {
	emitted    *prometheus.CounterVec
	deliveries *prometheus.CounterVec
	errors     prometheus.Counter
	queued     prometheus.Gauge
	backlog    func() float64 // set by the webhook sender; nil: 0
}

// NewMetrics registers the events' series on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		emitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wsgateway_events_emitted_total",
			Help: "Lifecycle events this node appended to the events stream, by type."}, []string{"type"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wsgateway_webhook_deliveries_total",
			Help: "Webhook batch POSTs by result: ok, failed (retried), dead (dead-lettered)."}, []string{"result"}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wsgateway_events_errors_total",
			Help: "Failed writes of lifecycle state to Redis; refreshes and retries heal them."}),
		queued: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wsgateway_events_queued",
			Help: "Lifecycle changes waiting for this node's events writer; when full, connects and subscribes wait."}),
	}
	for _, t := range Types {
		m.emitted.WithLabelValues(t)
	}
	for _, r := range []string{DeliveryOK, DeliveryFailed, DeliveryDead} {
		m.deliveries.WithLabelValues(r)
	}
	reg.MustRegister(m.emitted, m.deliveries, m.errors, m.queued, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "wsgateway_events_backlog",
		Help: "Events not yet delivered to the webhook (the webhook group's lag, summed over partitions; read on scrape)."},
		func() float64 {
			if m.backlog == nil {
				return 0
			}
			return m.backlog()
		}))
	return m
}

func (m *Metrics) count(evs []broker.Emitted) {
	for _, e := range evs {
		m.emitted.WithLabelValues(e.Type).Inc()
	}
}
