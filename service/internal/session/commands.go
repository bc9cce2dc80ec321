package session

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/wsgateway/wsgateway/service/internal/auth"
	"github.com/wsgateway/wsgateway/service/internal/hooks"
	"github.com/wsgateway/wsgateway/service/internal/telemetry"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// opTimeout bounds one broker call made for a command. The Redis broker's
// circuit breaker normally fails much sooner; this is the backstop.
const opTimeout = 5 * time.Second

var emptyResult = []byte("{}")

// handleLine decodes and runs one command. It reports false when the line
// was malformed, which counts toward the three-in-a-row 1008 rule.
func (s *Session) handleLine(line []byte) bool {
	cmd, perr := protocol.DecodeCommand(line)
	if perr != nil {
		s.m.receivedOp(protocol.OpInvalid)
		s.sendReply(protocol.AppendError(nil, cmd.ID, perr))
		return false
	}
	s.m.receivedOp(cmd.Op)
	if !s.allow() {
		s.replyError(cmd.ID, protocol.Errorf(protocol.CodeRateLimited, "more than %g commands per second", s.mgr.cfg.CommandRate))
		return true
	}
	// Once a command went to the executor, every later one follows it
	// there, so that replies keep the order of the commands.
	if e := s.exec.Load(); e != nil && e.busy() {
		e.enqueue(&cmd)
		return true
	}
	if s.needsHook(&cmd) {
		if cmd.Op == protocol.OpConnect && !s.connected.Load() {
			s.connectDeadline()
		}
		s.executor().enqueue(&cmd)
		return true
	}
	s.runCommand(&cmd)
	return true
}

// runCommand runs one command: on the reader when no hook is involved, or
// on the executor.
func (s *Session) runCommand(cmd *protocol.Command) {
	if closing, _ := s.out.state(); closing {
		return // a command queued behind a close
	}
	if !s.connected.Load() && cmd.Op != protocol.OpConnect {
		s.replyError(cmd.ID, protocol.Errorf(protocol.CodeUnauthorized, "the first command must be connect"))
		s.Close(protocol.CloseUnauthorized)
		return
	}
	s.dispatch(cmd)
}

// connectDeadline lifts the 10 s connect deadline once connect arrived and
// waits for its hook: the client is live for twice the ping interval (no
// pings go out before connect) plus the longest hook timeout.
func (s *Session) connectDeadline() {
	_ = s.conn.SetReadDeadline(time.Now().Add(2*s.mgr.cfg.PingInterval + hooks.MaxTimeout))
}

func (s *Session) dispatch(cmd *protocol.Command) {
	switch cmd.Op {
	case protocol.OpConnect:
		s.connect(cmd)
	case protocol.OpSubscribe:
		s.subscribe(cmd)
	case protocol.OpUnsubscribe:
		s.unsubscribe(cmd)
	case protocol.OpPublish:
		s.publish(cmd)
	case protocol.OpPresence:
		s.presence(cmd)
	case protocol.OpHistory:
		s.history(cmd)
	case protocol.OpRefresh:
		s.refresh(cmd)
	case protocol.OpRPC:
		s.rpc(cmd)
	case protocol.OpSend:
		s.sendToInbox(cmd)
	case protocol.OpPing:
		s.sendReply(protocol.AppendResult(nil, cmd.ID, emptyResult))
	}
}

// allow applies the per-connection command rate. Being limited for a second
// closes the connection with 4029. A run of limiting lasts while refusals
// come less than a second apart: the commands the refill lets through in
// between must not end it, or a client flooding at any speed would trickle
// through forever and never be closed.
func (s *Session) allow() bool {
	if s.limiter == nil {
		return true
	}
	now := time.Now()
	if s.limiter.AllowN(now, 1) {
		return true
	}
	if s.limitedSince.IsZero() || now.Sub(s.lastLimited) >= time.Second {
		s.limitedSince = now
	}
	s.lastLimited = now
	if now.Sub(s.limitedSince) >= time.Second {
		s.Close(protocol.CloseRateLimited)
	}
	return false
}

func (s *Session) connect(cmd *protocol.Command) {
	if s.connected.Load() {
		s.replyError(cmd.ID, protocol.Errorf(protocol.CodeBadRequest, "already connected"))
		return
	}
	if route := s.mgr.cfg.Hooks.Connect(); route != nil {
		s.connectWithHook(cmd, route)
		return
	}
	claims, err := s.authenticate(cmd.Token)
	if err != nil {
		s.refuseConnect(cmd, err)
		return
	}
	s.accept(cmd, claims, nil)
}

// refuseConnect answers a connect whose token is missing or invalid.
func (s *Session) refuseConnect(cmd *protocol.Command, err error) {
	s.m.Connects.WithLabelValues(ConnectUnauthorized).Inc()
	s.endConnectSpan(ConnectUnauthorized)
	s.mgr.log.Debug("connect refused", "conn", s.id, "err", err)
	s.replyError(cmd.ID, protocol.Errorf(protocol.CodeUnauthorized, "invalid or missing token"))
	s.Close(protocol.CloseUnauthorized)
}

// accept makes the connection live for claims; data is the connect hook's
// for the client (nil: none).
func (s *Session) accept(cmd *protocol.Command, claims *auth.Claims, data []byte) {
	s.claims = claims
	s.connected.Store(true)
	s.mgr.hub.AddConn(claims.User, s)
	s.mgr.connected.Add(1)
	s.reportOpened()
	s.m.Connects.WithLabelValues(ConnectOK).Inc()
	s.endConnectSpan(ConnectOK)
	_ = s.extendReadDeadline()
	s.sendReply(protocol.AppendReply(nil, cmd.ID, protocol.ConnectResult{
		Client: s.id, User: claims.User, Node: s.mgr.cfg.Node, Zone: s.mgr.cfg.Zone,
		PingInterval: int(s.mgr.cfg.PingInterval / time.Second), Data: data,
	}))
	// The timers come after the reply: an expiry already past (within the
	// JWT leeway, or a hook's expire_at) closes with 4001 at once, and the
	// client must read its connect reply before that close, not instead of it.
	s.setExpiry(claims.ExpiresAt)
	s.schedulePing()
}

// authenticate checks the token from connect, or else the upgrade's bearer
// token. --dev makes the token optional; without a key its verifier
// (auth.DevVerifier) makes everyone anonymous.
func (s *Session) authenticate(token string) (*auth.Claims, error) {
	if token == "" {
		token = s.info.Token
	}
	if token == "" {
		if s.mgr.cfg.Dev {
			return auth.Anonymous(), nil
		}
		return nil, errors.New("no token")
	}
	return s.mgr.verifier.Verify(token)
}

func (s *Session) refresh(cmd *protocol.Command) {
	claims, err := s.mgr.verifier.Verify(cmd.Token)
	switch {
	case err != nil:
		s.replyError(cmd.ID, protocol.Errorf(protocol.CodeUnauthorized, "invalid token"))
	case claims.User != s.claims.User:
		s.replyError(cmd.ID, protocol.Errorf(protocol.CodeUnauthorized, "token is for another user"))
	default:
		s.claims = claims
		s.setExpiry(claims.ExpiresAt)
		s.sendReply(protocol.AppendResult(nil, cmd.ID, emptyResult))
	}
}

func (s *Session) publish(cmd *protocol.Command) {
	if !s.claims.CanPublish(cmd.Channel) {
		s.replyError(cmd.ID, protocol.Errorf(protocol.CodePermissionDenied, "no permission to publish to %q", cmd.Channel))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	opts := protocol.PublishOptions{IdempotencyKey: cmd.IdempotencyKey, User: s.claims.User, Time: time.Now().UnixNano()}
	ctx, span := s.startSpan(ctx, "publish", trace.SpanKindProducer, cmd, telemetry.OpPublish)
	if span != nil {
		opts.TraceParent = telemetry.TraceParent(ctx) // the delivery spans on every node hang off it
	}
	data, ok := s.publishHook(cmd, span)
	if !ok {
		endSpan(span, nil)
		return
	}
	pos, err := s.mgr.broker.Publish(ctx, cmd.Channel, data, opts)
	endSpan(span, err, telemetry.Offset(pos.Offset))
	if err != nil {
		s.replyFailure(ctx, cmd, err)
		return
	}
	s.sendReply(protocol.AppendReply(nil, cmd.ID, pos))
}

func (s *Session) presence(cmd *protocol.Command) {
	if !s.claims.CanSubscribe(cmd.Channel) {
		s.replyError(cmd.ID, protocol.Errorf(protocol.CodePermissionDenied, "no permission on %q", cmd.Channel))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	users, err := s.mgr.broker.Presence(ctx, cmd.Channel)
	if err != nil {
		s.replyFailure(ctx, cmd, err)
		return
	}
	s.sendReply(protocol.AppendReply(nil, cmd.ID, protocol.CapPresence(users, cmd.Limit, s.mgr.cfg.MaxReplyBytes)))
}

func (s *Session) history(cmd *protocol.Command) {
	if !s.claims.CanSubscribe(cmd.Channel) {
		s.replyError(cmd.ID, protocol.Errorf(protocol.CodePermissionDenied, "no permission on %q", cmd.Channel))
		return
	}
	// The broker stops reading at the budget: a reply never holds more
	// than about MaxReplyBytes, whatever the channel keeps.
	q := protocol.HistoryQuery{Limit: protocol.HistoryLimit(cmd.Limit), MaxBytes: s.mgr.cfg.MaxReplyBytes}
	if cmd.Since != nil {
		q.Since, q.HasSince = *cmd.Since, true
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	h, err := s.mgr.broker.History(ctx, cmd.Channel, q)
	if err != nil {
		s.replyFailure(ctx, cmd, err)
		return
	}
	s.sendReply(protocol.AppendHistoryReply(nil, cmd.ID, protocol.HistoryResult{
		Offset: h.Offset, Epoch: h.Epoch, Publications: h.Publications, Truncated: h.Truncated,
	}))
}

func (s *Session) replyError(id uint64, e *protocol.Error) {
	s.sendReply(protocol.AppendError(nil, id, e))
}

// replyFailure answers a command whose broker call failed. Faults of ours
// are logged here, once; the client only learns the code.
func (s *Session) replyFailure(ctx context.Context, cmd *protocol.Command, err error) {
	e := protocol.AsError(err)
	if e.Code == protocol.CodeInternal {
		s.mgr.log.ErrorContext(ctx, "command failed", "conn", s.id, "op", cmd.Op, "channel", cmd.Channel, "err", err)
	}
	s.replyError(cmd.ID, e)
}
