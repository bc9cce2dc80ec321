package gateway

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"

	"github.com/wsgateway/wsgateway/service/internal/broker"
	"github.com/wsgateway/wsgateway/service/internal/config"
	"github.com/wsgateway/wsgateway/service/internal/server"
	"github.com/wsgateway/wsgateway/service/internal/session"
)

// inbox is *broker.RedisInbox, or *broker.MemoryInbox (every call
// unavailable) on a node without --redis-url.
type inbox interface {
	session.Inbox
	server.Inbox
	Run(ctx context.Context) error
}

// newInbox builds the node's inbox on b. Replies reach the sessions through
// sessions(), which is called only once the node runs (the Manager is
// built after the inbox it uses).
func newInbox(cfg config.Config, b clusterBroker, m *broker.InboxMetrics, log *slog.Logger, tracer trace.Tracer,
	sessions func() *session.Manager) inbox {
	rb, ok := b.(*broker.Redis)
	if !ok {
		return broker.NewMemoryInbox(m)
	}
	return rb.NewInbox(broker.InboxOptions{Node: cfg.NodeID, MaxLen: cfg.InboxMaxLen, NoWorker: cfg.InboxNoWorker,
		Partitions: cfg.InboxPartitions, Metrics: m, Log: log, Tracer: tracer,
		Deliver: func(client string, line []byte) bool { return sessions().DeliverReply(client, line) }})
}
