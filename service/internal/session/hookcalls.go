package session

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/wsgateway/wsgateway/service/internal/auth"
	"github.com/wsgateway/wsgateway/service/internal/hooks"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// needsHook reports whether cmd calls a backend hook, and so runs on the
// executor. Without --hooks-config it is one nil check.
func (s *Session) needsHook(cmd *protocol.Command) bool {
	h := s.mgr.cfg.Hooks
	if h == nil {
		return false
	}
	switch cmd.Op {
	case protocol.OpConnect:
		return h.Connect() != nil
	case protocol.OpSubscribe:
		return h.Subscribe(cmd.Channel) != nil
	case protocol.OpPublish:
		return h.Publish(cmd.Channel) != nil
	case protocol.OpRPC:
		return h.RPC(cmd.Method) != nil
	}
	return false
}

// hookRequest is the part of every hook body that describes the connection.
func (s *Session) hookRequest() hooks.Request {
	req := hooks.Request{Client: s.id}
	if e := s.exec.Load(); e != nil {
		req.Meta = e.meta
	}
	if s.claims != nil {
		req.User = s.claims.User
	}
	return req
}

// hookCtx is a hook call's context: it ends when the connection closes,
// and it carries span (the command's), so the call is its child.
func (s *Session) hookCtx(span trace.Span) context.Context {
	ctx := s.hookContext()
	if span != nil {
		ctx = trace.ContextWithSpan(ctx, span)
	}
	return ctx
}

// hookResult applies a hook's answer to the command of an open connection:
// the backend's error goes to the client, a disconnect closes the
// connection. It returns the result when the action goes ahead (an empty
// one after a failure with on_error: allow). A failure never closes an
// open connection: with on_error: reject it is only the unavailable error.
func (s *Session) hookResult(cmd *protocol.Command, ans hooks.Answer) (*hooks.Result, bool) {
	switch {
	case ans.Disconnect != nil:
		s.Close(*ans.Disconnect)
		return nil, false
	case ans.Error != nil:
		s.replyError(cmd.ID, ans.Error)
		return nil, false
	case ans.Result == nil:
		return &hooks.Result{}, true
	}
	return ans.Result, true
}

// connectWithHook authenticates cmd through the connect hook: mode
// token_then_hook verifies the token first (as without a hook); mode hook
// verifies a token only when one was given, and the hook names the user.
// It runs on the executor.
func (s *Session) connectWithHook(cmd *protocol.Command, route *hooks.ConnectRoute) {
	token := cmd.Token
	if token == "" {
		token = s.info.Token
	}
	var claims *auth.Claims
	if route.Mode != hooks.ModeHook || token != "" {
		c, err := s.authenticate(cmd.Token)
		if err != nil {
			s.refuseConnect(cmd, err)
			return
		}
		claims = c
	}
	req := hooks.Request{Client: s.id, Headers: s.info.Headers, CoalesceKey: coalesceKey(token, s.info.Headers)}
	if claims != nil && claims.User != "" {
		// A verified token always has a sub; an anonymous --dev client's
		// token was not verified, so its claims are not sent as verified.
		req.User, req.Claims, req.ExpiresAt = claims.User, tokenClaims(token), claims.ExpiresAt
	}
	ans := route.Call(s.hookCtx(s.connectSpan), req)
	switch {
	case ans.Disconnect != nil:
		s.m.Connects.WithLabelValues(ConnectUnauthorized).Inc()
		s.endConnectSpan(ConnectUnauthorized)
		s.Close(*ans.Disconnect)
		return
	case ans.Error != nil && ans.Failed:
		// The backend is down, not the client wrong: 1013 makes every SDK
		// back off with jitter instead of hammering it.
		s.m.Connects.WithLabelValues(ConnectUnavailable).Inc()
		s.endConnectSpan(ConnectUnavailable)
		s.replyError(cmd.ID, ans.Error)
		s.Close(protocol.CloseOverloaded)
		return
	case ans.Error != nil:
		s.m.Connects.WithLabelValues(ConnectUnauthorized).Inc()
		s.endConnectSpan(ConnectUnauthorized)
		s.replyError(cmd.ID, ans.Error)
		s.Close(protocol.CloseUnauthorized)
		return
	}
	res := ans.Result
	if res == nil {
		res = &hooks.Result{}
	}
	s.exec.Load().meta = res.Meta // connect hooks run on the executor
	s.accept(cmd, connectClaims(claims, res, route.Mode), compactCopy(res.Data))
}

// connectClaims applies a connect hook's result to the token's claims (nil
// without a token): the user in mode hook, pattern lists that replace the
// token's, a new expiry. The hook's result may be shared with coalesced
// calls: its lists are only read.
func connectClaims(claims *auth.Claims, res *hooks.Result, mode hooks.ConnectMode) *auth.Claims {
	var c auth.Claims
	if claims != nil {
		c = *claims
	}
	if mode == hooks.ModeHook && res.User != "" {
		c.User = res.User
	}
	if res.Subscribe != nil || res.Publish != nil {
		// A new Claims matches with auth's rules on the given lists only
		// (a --dev client's every-permission flag does not survive).
		n := auth.Claims{User: c.User, ExpiresAt: c.ExpiresAt, Subscribe: c.Subscribe, Publish: c.Publish, Send: c.Send}
		if res.Subscribe != nil {
			n.Subscribe = res.Subscribe
		}
		if res.Publish != nil {
			n.Publish = res.Publish
		}
		c = n
	}
	if res.ExpireAt != 0 {
		c.ExpiresAt = time.Unix(res.ExpireAt, 0)
	}
	return &c
}

// rpc asks the backend's rpc hook of the method's namespace.
func (s *Session) rpc(cmd *protocol.Command) {
	route := s.mgr.cfg.Hooks.RPC(cmd.Method)
	if route == nil {
		s.replyError(cmd.ID, protocol.Errorf(protocol.CodeNotFound, "no rpc method %q", cmd.Method))
		return
	}
	_, span := s.startSpanOn(context.Background(), "rpc", trace.SpanKindServer, cmd.Method)
	req := s.hookRequest()
	req.Method, req.Data = cmd.Method, cmd.Data
	res, ok := s.hookResult(cmd, route.Call(s.hookCtx(span), req))
	endSpan(span, nil)
	if !ok {
		return
	}
	data := compactCopy(res.Data)
	if data == nil {
		data = json.RawMessage("null")
	}
	s.sendReply(protocol.AppendReply(nil, cmd.ID, protocol.RPCResult{Data: data}))
}

// subscribeHook asks the channel namespace's subscribe hook, if any. It
// returns the data for the subscribe result, and false when the subscribe
// must stop (the hook's error or disconnect was applied).
func (s *Session) subscribeHook(cmd *protocol.Command, span trace.Span) (json.RawMessage, bool) {
	route := s.mgr.cfg.Hooks.Subscribe(cmd.Channel)
	if route == nil {
		return nil, true
	}
	req := s.hookRequest()
	req.Channel, req.Data = cmd.Channel, cmd.Data
	res, ok := s.hookResult(cmd, route.Call(s.hookCtx(span), req))
	if !ok {
		return nil, false
	}
	return compactCopy(res.Data), true
}

// publishHook asks the channel namespace's publish hook, if any, and
// returns the data to publish: the client's, or the backend's replacement.
func (s *Session) publishHook(cmd *protocol.Command, span trace.Span) (json.RawMessage, bool) {
	route := s.mgr.cfg.Hooks.Publish(cmd.Channel)
	if route == nil {
		return cmd.Data, true
	}
	req := s.hookRequest()
	req.Channel, req.Data, req.IdempotencyKey = cmd.Channel, cmd.Data, cmd.IdempotencyKey
	req.Key = publishKey(req.User, cmd.Channel, cmd.IdempotencyKey)
	res, ok := s.hookResult(cmd, route.Call(s.hookCtx(span), req))
	if !ok {
		return nil, false
	}
	if data := compactCopy(res.Data); data != nil {
		return data, true
	}
	return cmd.Data, true
}

// publishKey is the Idempotency-Key of a publish hook call: derived from
// the user, the channel and the client's idempotency key, so a client's
// retry of one publish (on this node or another) carries the same header.
// Without a client key each call gets a random one (hooks.Route.Call).
func publishKey(user, channel, key string) string {
	if key == "" {
		return ""
	}
	h := sha256.New()
	for _, part := range []string{user, channel, key} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return "pub-" + hex.EncodeToString(h.Sum(nil)[:16])
}

// coalesceKey identifies a connect hook call by what it is decided on, the
// token and the forwarded headers, so that identical calls of a reconnect
// storm share one backend call. Empty when there is nothing to tell
// clients apart: anonymous connects are never coalesced.
func coalesceKey(token string, headers map[string]string) string {
	if token == "" && len(headers) == 0 {
		return ""
	}
	h := sha256.New()
	h.Write([]byte(token))
	names := make([]string, 0, len(headers))
	for n := range headers {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		h.Write([]byte{0})
		h.Write([]byte(n))
		h.Write([]byte{0})
		h.Write([]byte(headers[n]))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// tokenClaims returns the JSON payload of a verified JWT, or nil.
func tokenClaims(token string) json.RawMessage {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || !json.Valid(b) {
		return nil
	}
	return b
}

// compactCopy returns a compacted copy of a hook's JSON value (nil when
// empty): the answer may be shared between coalesced calls, and the wire
// carries data compacted, as a client's is on entry.
func compactCopy(data json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	c, err := protocol.CompactData(bytes.Clone(data))
	if err != nil {
		return nil // hooks validated it; never reached
	}
	return c
}

// ForwardedHeaders picks, from the upgrade request's headers, the ones the
// connect hook forwards (its allowlist), several values of one header
// joined as HTTP joins them. Nil when no hook forwards any: a connection
// keeps nothing of the request otherwise.
func (m *Manager) ForwardedHeaders(h http.Header) map[string]string {
	route := m.cfg.Hooks.Connect()
	if route == nil || len(route.ForwardHeaders) == 0 {
		return nil
	}
	var out map[string]string
	for _, name := range route.ForwardHeaders {
		vals := h.Values(name)
		if len(vals) == 0 {
			continue
		}
		if out == nil {
			out = make(map[string]string, len(route.ForwardHeaders))
		}
		sep := ", "
		if name == "Cookie" {
			sep = "; " // RFC 6265: HTTP/2 may split cookies over several fields
		}
		out[name] = strings.Join(vals, sep)
	}
	return out
}
