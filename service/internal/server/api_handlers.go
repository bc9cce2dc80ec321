package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/wsgateway/wsgateway/service/internal/telemetry"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// maxBroadcastChannels bounds one broadcast call.
const maxBroadcastChannels = 1000

type publishRequest struct {
	Channel        string          `json:"channel"`
	Data           json.RawMessage `json:"data"`
	IdempotencyKey string          `json:"idempotency_key"`
}

func (s *Server) apiPublish(r *http.Request) (any, error) {
	var req publishRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	if err := checkChannel(req.Channel); err != nil {
		return nil, err
	}
	data, err := compactData(req.Data)
	if err != nil {
		return nil, err
	}
	if len(req.IdempotencyKey) > protocol.MaxIdempotencyKeyLen {
		return nil, protocol.Errorf(protocol.CodeBadRequest, "idempotency_key longer than %d bytes", protocol.MaxIdempotencyKeyLen)
	}
	return s.publish(r, req.Channel, data, protocol.PublishOptions{
		IdempotencyKey: req.IdempotencyKey, Time: time.Now().UnixNano(),
	})
}

// publish publishes for the API inside a producer span that continues the
// caller's trace (the backend's, forwarded by the mesh), and hands the span
// to the publication so every node's delivery joins that trace.
func (s *Server) publish(r *http.Request, ch string, data []byte, o protocol.PublishOptions) (protocol.Position, error) {
	if s.cfg.Tracer == nil {
		return s.broker.Publish(r.Context(), ch, data, o)
	}
	ctx, span := s.cfg.Tracer.Start(telemetry.FromHeaders(r.Context(), r.Header), telemetry.SpanName("publish", ch),
		trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(telemetry.System, telemetry.OpPublish, telemetry.Destination(ch)))
	defer span.End()
	o.TraceParent = telemetry.TraceParent(ctx)
	pos, err := s.broker.Publish(ctx, ch, data, o)
	if err != nil {
		span.SetStatus(codes.Error, protocol.AsError(err).Code)
	}
	span.SetAttributes(telemetry.Offset(pos.Offset))
	return pos, err
}

type broadcastRequest struct {
	Channels []string        `json:"channels"`
	Data     json.RawMessage `json:"data"`
}

type broadcastResult struct {
	Channel string          `json:"channel"`
	Offset  *uint64         `json:"offset,omitempty"`
	Epoch   string          `json:"epoch,omitempty"`
	Error   *protocol.Error `json:"error,omitempty"`
}

func (s *Server) apiBroadcast(r *http.Request) (any, error) {
	var req broadcastRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	if len(req.Channels) == 0 || len(req.Channels) > maxBroadcastChannels {
		return nil, protocol.Errorf(protocol.CodeBadRequest, "channels must list 1 to %d channels", maxBroadcastChannels)
	}
	data, err := compactData(req.Data)
	if err != nil {
		return nil, err
	}
	now := time.Now().UnixNano()
	results := make([]broadcastResult, len(req.Channels))
	for i, ch := range req.Channels {
		results[i] = s.broadcastOne(r, ch, data, now)
	}
	return map[string]any{"results": results}, nil
}

// broadcastOne publishes to one channel; a failure is reported in its
// result rather than failing the whole call.
func (s *Server) broadcastOne(r *http.Request, ch string, data []byte, now int64) broadcastResult {
	if err := checkChannel(ch); err != nil {
		return broadcastResult{Channel: ch, Error: err}
	}
	pos, err := s.publish(r, ch, data, protocol.PublishOptions{Time: now})
	if err != nil {
		return broadcastResult{Channel: ch, Error: protocol.AsError(err)}
	}
	return broadcastResult{Channel: ch, Offset: &pos.Offset, Epoch: pos.Epoch}
}

func (s *Server) apiDisconnect(r *http.Request) (any, error) {
	var req struct {
		User string `json:"user"`
	}
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	if req.User == "" {
		return nil, protocol.Errorf(protocol.CodeBadRequest, "user is required")
	}
	if err := s.broker.Disconnect(r.Context(), req.User); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (s *Server) apiPresence(r *http.Request) (any, error) {
	ch := r.URL.Query().Get("channel")
	if err := checkChannel(ch); err != nil {
		return nil, err
	}
	limit, perr := limitParam(r)
	if perr != nil {
		return nil, perr
	}
	users, err := s.broker.Presence(r.Context(), ch)
	if err != nil {
		return nil, err
	}
	return protocol.CapPresence(users, limit, s.cfg.MaxReplyBytes), nil
}

// limitParam reads the optional limit query parameter (0 when absent).
func limitParam(r *http.Request) (int, *protocol.Error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, protocol.Errorf(protocol.CodeBadRequest, "limit must be a non-negative integer")
	}
	return n, nil
}

func (s *Server) apiHistory(r *http.Request) (any, error) {
	q := r.URL.Query()
	ch := q.Get("channel")
	if err := checkChannel(ch); err != nil {
		return nil, err
	}
	var hq protocol.HistoryQuery
	if v := q.Get("since"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return nil, protocol.Errorf(protocol.CodeBadRequest, "since must be a non-negative integer")
		}
		hq.Since, hq.HasSince = n, true
	}
	limit, perr := limitParam(r)
	if perr != nil {
		return nil, perr
	}
	hq.Limit, hq.MaxBytes = protocol.HistoryLimit(limit), s.cfg.MaxReplyBytes
	h, err := s.broker.History(r.Context(), ch, hq)
	if err != nil {
		return nil, err
	}
	pubs := protocol.Publications(h.Publications)
	if pubs == nil {
		pubs = protocol.Publications{}
	}
	return protocol.HistoryResult{Offset: h.Offset, Epoch: h.Epoch, Publications: pubs, Truncated: h.Truncated}, nil
}

func checkChannel(ch string) *protocol.Error {
	if !protocol.ValidChannel(ch) {
		return protocol.Errorf(protocol.CodeBadRequest, "invalid channel name %q", ch)
	}
	return nil
}

// compactData checks that data is present and compacts it: a push is one
// line of the frame, so a pretty-printed body must lose its newlines, and
// compacting every publication once, here, gives the live push and history
// the same bytes (as protocol.DecodeCommand does for a client's publish).
func compactData(data json.RawMessage) ([]byte, error) {
	if len(data) == 0 {
		return nil, protocol.Errorf(protocol.CodeBadRequest, "data is required")
	}
	b, err := protocol.CompactData(data)
	if err != nil {
		return nil, protocol.Errorf(protocol.CodeBadRequest, "data is not valid JSON")
	}
	return b, nil
}
