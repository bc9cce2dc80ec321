package worker

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"

	"github.com/wsgateway/wsgateway/service/protocol"
	"github.com/wsgateway/wsgateway/service/streams"
)

// Handler handles one message. A nil error acknowledges it; an error runs
// it again after Options.Backoff, up to Options.MaxAttempts times, then
// moves it to the dead letters (at once for a Permanent error).
type Handler func(ctx context.Context, m *Message) error

// Options configure Run. Redis and Topic are required.
type Options struct {
	// Redis is the gateway's Redis: standalone, Sentinel or Cluster. Its
	// pool must allow one blocking read per held partition plus a few
	// (redis.Options.PoolSize ≥ partitions + 4).
	Redis redis.UniversalClient
	// Topic is the inbox topic, or streams.Events for the lifecycle events.
	Topic string
	// ConsumerGroup defaults to streams.GroupWorkers.
	ConsumerGroup string
	// Name is this worker's consumer id; default hostname-pid-random. Two
	// live workers must not share one.
	Name string
	// MaxAttempts is how many failed runs move a message to the dead
	// letters; default 5.
	MaxAttempts int
	// Backoff is the wait after the failed run attempt; default
	// DefaultBackoff. The message's partition waits with it (order).
	Backoff func(attempt int) time.Duration
	// Concurrency bounds the handlers running at once; 0 means one per held
	// partition.
	Concurrency int
	// DrainTimeout bounds the in-flight handlers once ctx ends; default 30 s.
	DrainTimeout time.Duration
	// APIURL and APIKey reach the gateway's backend API (for Reply and
	// Publish), e.g. "http://wsgateway-api:8081".
	APIURL string
	APIKey string
	// HTTPClient calls the API; default a client with a 10 s timeout.
	HTTPClient *http.Client
	Logger     *slog.Logger
	// Registerer takes the worker's metrics (wsgateway_worker_*); none if nil.
	Registerer prometheus.Registerer
	// TracerProvider makes the handler's span, a child of the producer's
	// traceparent; none if nil.
	TracerProvider trace.TracerProvider
}

// Run consumes opts.Topic with h until ctx ends, then drains (see Consumer.Run).
func Run(ctx context.Context, opts Options, h Handler) error {
	if opts.Redis == nil || h == nil {
		return errors.New("worker: Options.Redis and a handler are required")
	}
	api := &API{URL: opts.APIURL, Key: opts.APIKey, HTTPClient: opts.HTTPClient}
	tr := newTracer(opts.TracerProvider)
	c := &Consumer{
		Redis: opts.Redis, Group: opts.Topic, ConsumerGroup: opts.ConsumerGroup, Name: opts.Name,
		MaxAttempts: opts.MaxAttempts, Backoff: opts.Backoff, Concurrency: opts.Concurrency,
		DrainTimeout: opts.DrainTimeout, Logger: opts.Logger, Registerer: opts.Registerer,
	}
	c.Handle = func(ctx context.Context, b Batch) error {
		m := newMessage(b.Part, b.Entries[0], b.Attempt, api)
		ctx, end := tr.start(ctx, m)
		err := h(ctx, m)
		end(err)
		return err
	}
	c.Dead = func(ctx context.Context, b Batch, err error) {
		if b.Part.Group == streams.Events {
			return
		}
		m := newMessage(b.Part, b.Entries[0], b.Attempt, api)
		if api.URL == "" || m.Client == "" {
			return
		}
		// The sender learns its message failed for good; gone is fine.
		// The handler's error stays in the dead letter: it may say more than a client should see.
		rerr := m.ReplyError(ctx, protocol.CodeInternal, "the message could not be processed")
		if rerr != nil && !errors.Is(rerr, ErrSenderGone) {
			c.Logger.Warn("the dead letter's error reply failed", "id", m.ID, "err", rerr)
		}
	}
	return c.Run(ctx)
}
