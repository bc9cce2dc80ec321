package session

import (
	"context"
	"sync"

	"go.opentelemetry.io/otel/trace"

	"github.com/wsgateway/wsgateway/service/internal/telemetry"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// Inbox is what a session needs of the inbox (CONTRACT §7): queueing a
// send, and forgetting a sender that left so replies to it answer 404.
// *broker.RedisInbox and *broker.MemoryInbox (which answers unavailable)
// satisfy it. Send fails with an error wrapping a *protocol.Error:
// rate_limited when the topic is full, unavailable when Redis is down or no
// worker is alive.
type Inbox interface {
	Send(ctx context.Context, m protocol.InboxMessage) (protocol.SendResult, error)
	Forget(client string)
	// Denied counts a send refused for want of the send claim.
	Denied()
}

// senders indexes this node's sessions that used send, by client id, so a
// worker's reply reaches its sender. Only senders are indexed: connections
// that never send cost the inbox nothing. Safe for concurrent use.
type senders struct{ m sync.Map } // client id -> *Session

// sendToInbox queues the command's message for the topic's workers. It runs on
// the reader (or the executor, behind a hook) like publish: one bounded
// broker call.
func (s *Session) sendToInbox(cmd *protocol.Command) {
	inbox := s.mgr.cfg.Inbox
	if !s.claims.CanSend(cmd.Topic) {
		if inbox != nil {
			inbox.Denied()
		}
		s.replyError(cmd.ID, protocol.Errorf(protocol.CodePermissionDenied, "no permission to send to %q", cmd.Topic))
		return
	}
	if inbox == nil {
		s.replyError(cmd.ID, protocol.Errorf(protocol.CodeUnavailable, "the inbox needs --redis-url"))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	m := protocol.InboxMessage{Topic: cmd.Topic, User: s.claims.User, Client: s.id, Key: cmd.IdempotencyKey, Data: cmd.Data}
	ctx, span := s.startSpanOn(ctx, "send", trace.SpanKindProducer, cmd.Topic, telemetry.OpPublish)
	if span != nil {
		m.TraceParent = telemetry.TraceParent(ctx) // the worker's handler continues this trace
	}
	// Indexed before the message is queued: a fast worker's reply must
	// find the session.
	s.mgr.senders.m.Store(s.id, s)
	res, err := inbox.Send(ctx, m)
	endSpan(span, err)
	if err != nil {
		s.replyFailure(ctx, cmd, err)
		return
	}
	s.sendReply(protocol.AppendSendReply(nil, cmd.ID, res))
}

// leaveInbox runs at teardown: a sender's replies now answer 404.
func (s *Session) leaveInbox() {
	if _, ok := s.mgr.senders.m.LoadAndDelete(s.id); ok && s.mgr.cfg.Inbox != nil {
		s.mgr.cfg.Inbox.Forget(s.id)
	}
}

// DeliverReply queues a reply push (protocol.AppendReplyPush) to the local
// client; it reports false when no such sender is connected here.
func (m *Manager) DeliverReply(client string, line []byte) bool {
	v, ok := m.senders.m.Load(client)
	if !ok {
		return false
	}
	s := v.(*Session)
	if closing, _ := s.out.state(); closing {
		return false
	}
	// Queued as a reply: bounded by the byte budget, not the push count,
	// and counted in wsgateway_messages_sent_total{kind="reply"}.
	s.send(item{kind: kindReply, line: line})
	return true
}
