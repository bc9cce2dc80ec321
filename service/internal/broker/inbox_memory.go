package broker

import (
	"context"
	"encoding/json"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// errNeedsRedis answers every inbox call on a node without Redis: the inbox
// is durable, and one process's memory is not.
var errNeedsRedis = protocol.Errorf(protocol.CodeUnavailable, "the inbox needs --redis-url")

// MemoryInbox is the inbox of a node without Redis: it answers every call
// unavailable, and counts the sends so the metrics say why.
type MemoryInbox struct{ m *InboxMetrics }

// NewMemoryInbox returns the inbox of a node without --redis-url.
func NewMemoryInbox(m *InboxMetrics) *MemoryInbox { return &MemoryInbox{m: m} }

// Send answers unavailable.
func (i *MemoryInbox) Send(context.Context, protocol.InboxMessage) (protocol.SendResult, error) {
	i.m.Enqueued.WithLabelValues(EnqueueUnavailable).Inc()
	return protocol.SendResult{}, errNeedsRedis
}

// Forget does nothing: no client was ever registered.
func (i *MemoryInbox) Forget(string) {}

// Reply answers unavailable.
func (i *MemoryInbox) Reply(context.Context, string, json.RawMessage, *protocol.Error) error {
	return errNeedsRedis
}

// DeadLetters answers unavailable.
func (i *MemoryInbox) DeadLetters(context.Context, string, int) ([]protocol.DeadLetter, error) {
	return nil, errNeedsRedis
}

// Redrive answers unavailable.
func (i *MemoryInbox) Redrive(context.Context, string, []string, int) ([]protocol.Redriven, error) {
	return nil, errNeedsRedis
}

// Run has nothing to run; it returns when ctx is done.
func (i *MemoryInbox) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// Denied counts a send refused for want of the send claim.
func (i *MemoryInbox) Denied() { i.m.Enqueued.WithLabelValues(EnqueueDenied).Inc() }
