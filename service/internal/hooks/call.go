package hooks

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/wsgateway/wsgateway/service/internal/telemetry"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// maxAnswer is the largest answer body read; a longer one is a failure.
const maxAnswer = 1 << 20

// caller is what every route shares: the HTTP client, tracing, metrics.
type caller struct {
	client     *http.Client
	log        *slog.Logger
	tracer     trace.Tracer
	node, zone string
	m          *metrics
}

// Route is one configured hook: where it goes, its timeout and on_error.
// Immutable after New; safe for concurrent use.
type Route struct {
	c           *caller
	hook        string
	ep          *endpoint
	timeout     time.Duration
	allow       bool       // on_error: allow
	userAllowed bool       // connect in mode hook: the result may name the user
	coalesce    *coalescer // connect only
}

// Call makes one attempt (never a retry), bounded by the route's timeout and
// ctx, as a client span in ctx's trace with traceparent injected, counts
// wsgateway_hook_requests_total{hook,result} and
// wsgateway_hook_duration_seconds{hook}, and applies on_error. It never
// blocks longer than the timeout, and answers in well under 1 ms while the
// endpoint's breaker is open. Call on a nil *Route answers {"result":{}}.
func (r *Route) Call(ctx context.Context, req Request) Answer {
	if r == nil {
		return Answer{Result: &Result{}}
	}
	if req.Key == "" {
		req.Key = randomKey()
	}
	if r.coalesce != nil && req.CoalesceKey != "" {
		return r.coalesce.do(ctx, r, req)
	}
	return r.call(ctx, req)
}

// call is one attempt through the endpoint's breaker, with on_error applied.
func (r *Route) call(ctx context.Context, req Request) Answer {
	ctx, span := r.startSpan(ctx)
	defer span.End()
	start := time.Now()
	// The body is built inside the breaker, so an open breaker answers
	// without that work; a body that cannot be built is our bug, which
	// the breaker does not count against the backend.
	ans, err := r.ep.cb.Execute(func() (Answer, error) {
		body, err := r.body(req)
		if err != nil {
			r.c.log.Error("hook call not made", "hook", r.hook, "err", err)
			return Answer{}, fmt.Errorf("%w: %v", errNotBackend, err)
		}
		return r.post(ctx, req.Key, body)
	})
	result := resultOf(ans, err)
	r.c.m.requests.WithLabelValues(r.hook, result).Inc()
	if result != resultBreakerOpen {
		r.c.m.duration.WithLabelValues(r.hook).Observe(time.Since(start).Seconds())
	}
	if err == nil {
		span.SetAttributes(attribute.String("wsgateway.hook.result", result))
		return ans
	}
	if result == resultFailed {
		r.c.log.Debug("hook call failed", "hook", r.hook, "endpoint", r.ep.name, "err", err)
	}
	return r.failed(span, result, err)
}

// startSpan starts the call's client span in the command's trace. A
// command that is not traced gets no hook span either: a hook call alone
// would be an orphan root trace.
func (r *Route) startSpan(ctx context.Context) (context.Context, trace.Span) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx, noopSpan
	}
	return r.c.tracer.Start(ctx, "hook "+r.hook, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("wsgateway.hook", r.hook), attribute.String("wsgateway.hook.endpoint", r.ep.name)))
}

// noopSpan stands in for the span of an untraced call; ending it is a no-op.
var noopSpan = trace.SpanFromContext(context.Background())

// failed applies on_error to a failed call.
func (r *Route) failed(span trace.Span, result string, err error) Answer {
	span.SetAttributes(attribute.String("wsgateway.hook.result", result))
	span.SetStatus(codes.Error, err.Error())
	return r.onError()
}

// onError is the answer to a failed call: go ahead with on_error: allow,
// unavailable with reject.
func (r *Route) onError() Answer {
	if r.allow {
		return Answer{Result: &Result{}, Failed: true}
	}
	return Answer{Error: protocol.Errorf(protocol.CodeUnavailable, "the %s hook is unavailable", r.hook), Failed: true}
}

func resultOf(a Answer, err error) string {
	switch {
	case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		return resultBreakerOpen
	case err != nil:
		return resultFailed
	case a.Error != nil:
		return resultError
	case a.Disconnect != nil:
		return resultDisconnect
	}
	return resultOK
}

// post sends the request and reads the answer. Its error is a failure.
func (r *Route) post(ctx context.Context, key string, body []byte) (Answer, error) {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, r.ep.url+"/"+r.hook, bytes.NewReader(body))
	if err != nil {
		return Answer{}, err
	}
	// Without GetBody net/http cannot replay the request. With it, an
	// Idempotency-Key header makes a POST "replayable", and the Transport
	// silently sends it again when a reused keep-alive connection closes
	// before the answer, though the backend may have run it: a retry the
	// gateway must never make (the mesh retries, the gateway makes one
	// attempt). The cost: a request that lost the race with an idle
	// connection's close is a failure instead of a free second try.
	hr.GetBody = nil
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Idempotency-Key", key)
	if tp := telemetry.TraceParent(ctx); tp != "" {
		hr.Header.Set("Traceparent", tp)
	}
	resp, err := r.c.client.Do(hr)
	if err != nil {
		if parent.Err() != nil {
			return Answer{}, fmt.Errorf("%w: %v", errNotBackend, err)
		}
		return Answer{}, err
	}
	defer resp.Body.Close()
	trace.SpanFromContext(ctx).SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4096)) // let the connection be reused
		return Answer{}, fmt.Errorf("status %d", resp.StatusCode)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		if parent.Err() != nil {
			return Answer{}, fmt.Errorf("%w: %v", errNotBackend, err)
		}
		return Answer{}, fmt.Errorf("read answer: %w", err)
	}
	if len(raw) > maxAnswer {
		return Answer{}, fmt.Errorf("answer over %d bytes", maxAnswer)
	}
	ans, err := r.parse(raw)
	if err != nil {
		r.c.log.Warn("hook answer invalid", "hook", r.hook, "endpoint", r.ep.name, "err", err)
		return Answer{}, err
	}
	return ans, nil
}

// randomKey is an Idempotency-Key for an action that has none of its own.
func randomKey() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
