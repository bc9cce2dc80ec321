package broker

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Results of an enqueue, the result label of wsgateway_inbox_enqueued_total.
const (
	EnqueueOK          = "ok"
	EnqueueDuplicate   = "duplicate"
	EnqueueFull        = "full"
	EnqueueNoWorker    = "no_worker"
	EnqueueUnavailable = "unavailable"
	EnqueueDenied      = "denied" // counted by the session: no send permission
)

// Results of a reply, the result label of wsgateway_inbox_replies_total.
const (
	ReplyDelivered = "delivered"
	ReplyNotFound  = "not_found"
)

// InboxMetrics are the inbox's metrics. They exist on every node from
// startup, with or without Redis, every label value at zero; the per-topic
// gauges appear for the topics this node has sent to (RedisInbox only).
type InboxMetrics struct {
	// Enqueued counts sends by result.
	Enqueued *prometheus.CounterVec
	// Replies counts POST /api/v1/reply calls answered here, by result.
	Replies *prometheus.CounterVec
	// RepliesPushed counts reply pushes this node handed to a local client
	// (or found the client gone: result not_found).
	RepliesPushed *prometheus.CounterVec

	topics atomic.Pointer[topicStats] // set by the RedisInbox
}

// NewInboxMetrics creates the inbox metrics and registers them on reg.
func NewInboxMetrics(reg prometheus.Registerer) *InboxMetrics {
	m := &InboxMetrics{
		Enqueued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wsgateway_inbox_enqueued_total",
			Help: "send commands by result: ok, duplicate (idempotency key seen), full (rate_limited), no_worker and unavailable (unavailable), denied (no send permission).",
		}, []string{"result"}),
		Replies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wsgateway_inbox_replies_total",
			Help: "POST /api/v1/reply calls by result: delivered (handed to the sender's node) or not_found (the sender is gone).",
		}, []string{"result"}),
		RepliesPushed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wsgateway_inbox_reply_pushes_total",
			Help: "Reply pushes that reached this node, by result: delivered (queued to the client) or not_found (the client left meanwhile).",
		}, []string{"result"}),
	}
	reg.MustRegister(m.Enqueued, m.Replies, m.RepliesPushed, topicCollector{m})
	for _, r := range []string{EnqueueOK, EnqueueDuplicate, EnqueueFull, EnqueueNoWorker, EnqueueUnavailable, EnqueueDenied} {
		m.Enqueued.WithLabelValues(r)
	}
	for _, r := range []string{ReplyDelivered, ReplyNotFound} {
		m.Replies.WithLabelValues(r)
		m.RepliesPushed.WithLabelValues(r)
	}
	return m
}

var (
	lagDesc = prometheus.NewDesc("wsgateway_inbox_lag_messages",
		"Unconsumed messages of an inbox topic (XLEN summed over its partitions), for the topics this node has sent to; read from Redis at scrape.",
		[]string{"topic"}, nil)
	oldestDesc = prometheus.NewDesc("wsgateway_inbox_oldest_pending_seconds",
		"Age of the oldest unconsumed message of an inbox topic (0: none), for the topics this node has sent to; read from Redis at scrape.",
		[]string{"topic"}, nil)
)

// topicCollector computes the per-topic gauges when scraped.
type topicCollector struct{ m *InboxMetrics }

func (c topicCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- lagDesc
	ch <- oldestDesc
}

func (c topicCollector) Collect(ch chan<- prometheus.Metric) {
	ts := c.m.topics.Load()
	if ts == nil {
		return
	}
	for _, s := range ts.read() {
		ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, float64(s.lag), s.topic)
		ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, s.oldest.Seconds(), s.topic)
	}
}
