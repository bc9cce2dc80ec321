package server

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/wsgateway/wsgateway/service/internal/telemetry"
	"github.com/wsgateway/wsgateway/service/protocol"
	"github.com/wsgateway/wsgateway/service/streams"
)

// Inbox is what the API needs of the inbox (CONTRACT §7, docs/streams.md):
// routing a worker's reply to its sender, and the dead letters.
// *broker.RedisInbox and *broker.MemoryInbox (unavailable) satisfy it.
type Inbox interface {
	// Reply pushes data (or e, when set) to the sender of message id on
	// whichever node it is connected to; an error wrapping
	// protocol.ErrNotFound when the sender is gone. ctx's span, when
	// sampled, travels with the reply: the delivery span joins its trace.
	Reply(ctx context.Context, id string, data json.RawMessage, e *protocol.Error) error
	// DeadLetters lists up to limit of a topic's dead letters, oldest first.
	DeadLetters(ctx context.Context, topic string, limit int) ([]protocol.DeadLetter, error)
	// Redrive puts dead letters back into their partitions: those named by
	// ids, or without ids the oldest limit.
	Redrive(ctx context.Context, topic string, ids []string, limit int) ([]protocol.Redriven, error)
}

// defaultDeadLimit is how many dead letters a call without limit covers.
const defaultDeadLimit = 100

type replyRequest struct {
	ID    string          `json:"id"`
	Data  json.RawMessage `json:"data"`
	Error *protocol.Error `json:"error"`
}

// appCode is an error code a worker may send: a contract code or one of
// the application's own, as a hook may answer (docs/hooks.md).
var appCode = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// apiReply is POST /api/v1/reply {"id","data"} or {"id","error"}.
func (s *Server) apiReply(r *http.Request) (any, error) {
	var req replyRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	if req.ID == "" {
		return nil, protocol.Errorf(protocol.CodeBadRequest, "id is required")
	}
	var data []byte
	switch {
	case req.Error != nil && len(req.Data) > 0:
		return nil, protocol.Errorf(protocol.CodeBadRequest, "give data or error, not both")
	case req.Error != nil:
		if !appCode.MatchString(req.Error.Code) {
			return nil, protocol.Errorf(protocol.CodeBadRequest, "error.code must match [a-z][a-z0-9_]{0,63}")
		}
	default:
		var err error
		if data, err = compactData(req.Data); err != nil {
			return nil, err
		}
	}
	if err := s.reply(r, req.ID, data, req.Error); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// reply routes a worker's reply inside a producer span that continues the
// worker's trace (its Reply call sends the handler's traceparent), and
// hands that span's traceparent to the sender's node, whose delivery span
// joins it: one trace from the client's send to the reply push.
func (s *Server) reply(r *http.Request, id string, data json.RawMessage, e *protocol.Error) error {
	if s.cfg.Tracer == nil {
		return s.inbox().Reply(r.Context(), id, data, e)
	}
	topic, _, _, perr := streams.ParseID(id)
	if perr != nil { // the inbox refuses it; no span named after a malformed id
		return s.inbox().Reply(r.Context(), id, data, e)
	}
	ctx, span := s.cfg.Tracer.Start(telemetry.FromHeaders(r.Context(), r.Header), telemetry.SpanName("reply", topic),
		trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(telemetry.System, telemetry.OpPublish, telemetry.Destination(topic)))
	defer span.End()
	err := s.inbox().Reply(ctx, id, data, e)
	if err != nil {
		span.SetStatus(codes.Error, protocol.AsError(err).Code)
	}
	return err
}

type deadAnswer struct {
	Messages []protocol.DeadLetter `json:"messages"`
}

// apiDead is GET /api/v1/inbox/dead?topic=&limit=.
func (s *Server) apiDead(r *http.Request) (any, error) {
	limit, perr := limitParam(r)
	if perr != nil {
		return nil, perr
	}
	if limit == 0 {
		limit = defaultDeadLimit
	}
	msgs, err := s.inbox().DeadLetters(r.Context(), r.URL.Query().Get("topic"), limit)
	if err != nil {
		return nil, err
	}
	return deadAnswer{Messages: msgs}, nil
}

type redriveRequest struct {
	Topic string   `json:"topic"`
	IDs   []string `json:"ids"`
	Limit int      `json:"limit"`
}

type redriveAnswer struct {
	Redriven []protocol.Redriven `json:"redriven"`
}

// apiRedrive is POST /api/v1/inbox/redrive {"topic","ids"?,"limit"?}.
func (s *Server) apiRedrive(r *http.Request) (any, error) {
	var req redriveRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	if req.Limit < 0 {
		return nil, protocol.Errorf(protocol.CodeBadRequest, "limit must not be negative")
	}
	if req.Limit == 0 {
		req.Limit = defaultDeadLimit
	}
	done, err := s.inbox().Redrive(r.Context(), req.Topic, req.IDs, req.Limit)
	if err != nil {
		return nil, err
	}
	return redriveAnswer{Redriven: done}, nil
}

// inbox is the configured inbox, or one that answers unavailable.
func (s *Server) inbox() Inbox {
	if s.cfg.Inbox != nil {
		return s.cfg.Inbox
	}
	return noInbox{}
}

// noInbox is the inbox of a server built without one (tests).
type noInbox struct{}

var errNoInbox = protocol.Errorf(protocol.CodeUnavailable, "the inbox needs --redis-url")

func (noInbox) Reply(context.Context, string, json.RawMessage, *protocol.Error) error {
	return errNoInbox
}
func (noInbox) DeadLetters(context.Context, string, int) ([]protocol.DeadLetter, error) {
	return nil, errNoInbox
}
func (noInbox) Redrive(context.Context, string, []string, int) ([]protocol.Redriven, error) {
	return nil, errNoInbox
}
