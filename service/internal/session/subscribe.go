package session

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/wsgateway/wsgateway/service/internal/telemetry"
	"github.com/wsgateway/wsgateway/service/protocol"
)

func (s *Session) subscribe(cmd *protocol.Command) {
	ch := cmd.Channel
	if !s.claims.CanSubscribe(ch) {
		s.replyError(cmd.ID, protocol.Errorf(protocol.CodePermissionDenied, "no permission to subscribe to %q", ch))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if old := s.subs[ch]; old != nil {
		if !old.gone() {
			s.replyError(cmd.ID, protocol.Errorf(protocol.CodeBadRequest, "already subscribed to %q", ch))
			return
		}
		s.leave(ctx, old) // ended on a gap: the client is subscribing again to recover
	}
	if len(s.subs) >= s.mgr.cfg.MaxSubscriptions {
		s.replyError(cmd.ID, protocol.Errorf(protocol.CodeTooManySubscriptions, "at most %d subscriptions", s.mgr.cfg.MaxSubscriptions))
		return
	}
	// The span covers the hook and the join; the hook is asked before the
	// subscription joins the hub, so nothing is held back while it waits.
	ctx, span := s.startSpan(ctx, "subscribe", trace.SpanKindServer, cmd, telemetry.OpSubscribe)
	data, ok := s.subscribeHook(cmd, span)
	if !ok {
		endSpan(span, nil)
		return
	}
	sub := &subscription{s: s, channel: ch}
	if s.subs == nil {
		s.subs = make(map[string]*subscription)
	}
	s.subs[ch] = sub
	// Joining the hub before reading the position is what makes the reply
	// and the live pushes meet without a gap: anything published from now
	// on is held in sub until activate, and duplicates are dropped there.
	s.mgr.hub.Subscribe(ch, sub)
	recovery, err := s.join(ctx, sub, cmd, data)
	endSpan(span, err, attribute.String("wsgateway.recovery", recovery))
	if err != nil {
		s.leave(ctx, sub)
		s.replyFailure(ctx, cmd, err)
	}
}

// join makes the node receive the channel, registers presence, reads the
// position (and the missed publications when recovering), and activates sub.
// It returns the recovery outcome: none, recovered or not_recovered.
// data is the subscribe hook's for the client (nil: none).
func (s *Session) join(ctx context.Context, sub *subscription, cmd *protocol.Command, data []byte) (string, error) {
	if err := s.mgr.broker.Subscribe(ctx, sub.channel); err != nil {
		return "none", err
	}
	sub.joined = true
	info := protocol.ClientInfo{User: s.claims.User, Client: s.id, Node: s.mgr.cfg.Node}
	if err := s.mgr.broker.AddPresence(ctx, sub.channel, info); err != nil {
		return "none", err
	}
	q := protocol.PositionOnly
	if cmd.Recover {
		// A recovery that does not fit the reply budget is refused
		// (recovered:false, the client resyncs) rather than loaded.
		q.Since, q.MaxBytes = cmd.Offset, s.mgr.cfg.MaxReplyBytes
	}
	h, err := s.mgr.broker.History(ctx, sub.channel, q)
	if err != nil {
		return "none", err
	}
	res := protocol.SubscribeResult{Offset: h.Offset, Epoch: h.Epoch, Publications: protocol.Publications{}, Data: data}
	outcome := "none"
	if cmd.Recover {
		res.Recovered, outcome = recovered(cmd, h), "not_recovered"
		if res.Recovered {
			res.Publications, outcome = h.Publications, "recovered"
		}
		s.m.recoveries.WithLabelValues(outcome).Inc()
	}
	sub.activate(protocol.AppendSubscribeReply(nil, cmd.ID, res), h.Position)
	s.reportSubscribed(sub.channel)
	return outcome, nil
}

// recovered reports whether h holds exactly the publications after the
// client's position, in the client's epoch.
func recovered(cmd *protocol.Command, h protocol.History) bool {
	if h.Truncated || cmd.Epoch != h.Epoch || cmd.Offset > h.Offset {
		return false
	}
	missed := h.Offset - cmd.Offset
	if uint64(len(h.Publications)) != missed {
		return false
	}
	return missed == 0 || h.Publications[0].Offset == cmd.Offset+1
}

func (s *Session) unsubscribe(cmd *protocol.Command) {
	if sub := s.subs[cmd.Channel]; sub != nil {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		s.leave(ctx, sub)
	}
	s.sendReply(protocol.AppendResult(nil, cmd.ID, emptyResult))
}

// leave ends sub and releases what it holds in the hub and the broker.
// Broker failures are logged, not returned: the subscription is gone
// locally either way, and presence entries expire in the cluster broker.
func (s *Session) leave(ctx context.Context, sub *subscription) {
	sub.end()
	delete(s.subs, sub.channel)
	s.mgr.hub.Unsubscribe(sub.channel, sub)
	if sub.joined {
		if err := s.mgr.broker.Unsubscribe(ctx, sub.channel); err != nil {
			s.mgr.log.Warn("broker unsubscribe failed", "channel", sub.channel, "err", err)
		}
	}
	if err := s.mgr.broker.RemovePresence(ctx, sub.channel, s.id); err != nil {
		s.mgr.log.Debug("presence remove failed", "channel", sub.channel, "err", err)
	}
	if sub.joined {
		s.reportUnsubscribed(sub.channel)
	}
}

// leaveAll releases every subscription, at teardown.
func (s *Session) leaveAll() {
	if len(s.subs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	for _, sub := range s.subs {
		s.leave(ctx, sub)
	}
}
