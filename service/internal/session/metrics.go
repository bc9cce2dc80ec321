package session

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wsgateway/wsgateway/service/internal/hub"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// The results of a connect, the sessions' label values of
// wsgateway_connects_total; the server counts its refusals before the
// upgrade under labels of its own.
const (
	ConnectOK           = "ok"
	ConnectUnauthorized = "unauthorized"
	ConnectTimeout      = "timeout"
	// ConnectUnavailable: the connect hook failed with on_error: reject.
	ConnectUnavailable = "unavailable"
)

// NewConnects registers wsgateway_connects_total, connection attempts by
// result, on reg. The node creates it once and hands it to the sessions
// (Config.Connects) and to the server, which count their own results in it.
func NewConnects(reg prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wsgateway_connects_total", Help: "Connection attempts, by result."}, []string{"result"})
	reg.MustRegister(c)
	return c
}

type metrics struct {
	Connects      *prometheus.CounterVec // set by NewManager
	disconnects   *prometheus.CounterVec
	received      *prometheus.CounterVec
	sentPubs      prometheus.Counter
	sentReplies   prometheus.Counter
	sentUnsubs    prometheus.Counter
	deliveryLag   prometheus.Histogram
	dropped       prometheus.Counter
	slowConsumers prometheus.Counter
	recoveries    *prometheus.CounterVec
	writeErrors   prometheus.Counter
	receivedOps   map[string]prometheus.Counter
}

// newMetrics registers the session series on reg; the Manager registers
// wsgateway_connections, which reads its count.
func newMetrics(reg prometheus.Registerer) *metrics {
	sent := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wsgateway_messages_sent_total", Help: "Messages written to clients, by kind (pub, unsub, reply).",
	}, []string{"kind"})
	m := &metrics{
		disconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wsgateway_disconnects_total", Help: "Closed connections, by close code."}, []string{"code"}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wsgateway_messages_received_total", Help: "Commands received, by op (invalid: undecodable)."}, []string{"op"}),
		sentPubs:    sent.WithLabelValues("pub"),
		sentReplies: sent.WithLabelValues("reply"),
		sentUnsubs:  sent.WithLabelValues("unsub"),
		deliveryLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "wsgateway_delivery_lag_seconds", Help: "Time from publish to the write on the client socket, across nodes.",
			Buckets: hub.LatencyBuckets}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wsgateway_send_queue_dropped_total", Help: "Messages dropped because a send queue overflowed."}),
		slowConsumers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wsgateway_slow_consumer_disconnects_total", Help: "Connections closed with 4008 (send queue overflow, or a write stalled)."}),
		recoveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wsgateway_recoveries_total", Help: "Subscribe-with-recover attempts, by result."}, []string{"result"}),
		writeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "wsgateway_write_errors_total", Help: "Socket writes that failed (timeouts, resets)."}),
	}
	m.receivedOps = make(map[string]prometheus.Counter, len(protocol.Ops))
	for _, op := range protocol.Ops {
		m.receivedOps[op] = m.received.WithLabelValues(op)
	}
	for _, c := range protocol.CloseCodes {
		m.disconnects.WithLabelValues(strconv.Itoa(c))
	}
	m.disconnects.WithLabelValues("other")
	m.recoveries.WithLabelValues("recovered")
	m.recoveries.WithLabelValues("not_recovered")
	reg.MustRegister(m.disconnects, m.received, sent, m.deliveryLag,
		m.dropped, m.slowConsumers, m.recoveries, m.writeErrors)
	return m
}

// disconnected counts a closed connection by code; codes outside
// protocol.CloseCodes (docs/protocol.md#close-codes) are folded into "other"
// to bound cardinality.
func (m *metrics) disconnected(code int) {
	for _, c := range protocol.CloseCodes {
		if c == code {
			m.disconnects.WithLabelValues(strconv.Itoa(code)).Inc()
			return
		}
	}
	m.disconnects.WithLabelValues("other").Inc()
}

func (m *metrics) receivedOp(op string) {
	if c, ok := m.receivedOps[op]; ok {
		c.Inc()
		return
	}
	m.receivedOps[protocol.OpInvalid].Inc()
}
