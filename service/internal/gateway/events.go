package gateway

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wsgateway/wsgateway/service/internal/broker"
	"github.com/wsgateway/wsgateway/service/internal/config"
	"github.com/wsgateway/wsgateway/service/internal/events"
)

// newEvents builds the lifecycle events' emitter (and the webhook sender
// with --webhook-url) on the Redis broker. The metrics exist on every node;
// without --events (Validate makes it need --redis-url) there is no emitter
// (nil): no goroutine, no script, no events stream, and sessions report
// nothing. deliver hands join and leave pushes to this node's subscribers.
func newEvents(cfg config.Config, b clusterBroker, log *slog.Logger, reg prometheus.Registerer,
	deliver func(channel, except string, line []byte)) *events.Emitter {
	m := events.NewMetrics(reg)
	rb, ok := b.(*broker.Redis)
	if !cfg.Events || !ok {
		return nil
	}
	var wh *events.Webhook
	if cfg.WebhookURL != "" {
		key, _ := config.WebhookKey(cfg.WebhookSecret) // Validate checked it
		wh = events.NewWebhook(rb.EventsClient(), events.WebhookOptions{URL: cfg.WebhookURL, Key: key,
			Node: cfg.NodeID, RetryWindow: cfg.WebhookRetryWindow, Log: log.With("component", "webhook"), Metrics: m})
	}
	return events.New(rb, events.Options{Node: cfg.NodeID, Partitions: cfg.InboxPartitions,
		Timing: broker.LifecycleTiming{VacatedDelay: cfg.VacatedDelay}, Webhook: wh,
		JoinLeave: events.JoinLeave{Namespaces: cfg.JoinLeaveNamespaces, Client: rb.EventsClient(), Deliver: deliver},
		Log:       log.With("component", "events"), Metrics: m})
}

// runEvents runs the emitter, if any, until ctx is done.
func runEvents(ctx context.Context, e *events.Emitter) {
	if e != nil {
		e.Run(ctx)
	}
}
