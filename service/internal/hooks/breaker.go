package hooks

import (
	"errors"
	"log/slog"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Breaker settings. breakerTrips failures in a row open an endpoint's
// breaker; while open, every call to it fails at once; after breakerOpen one
// probe is let through (half-open) and its outcome decides.
const (
	breakerTrips = 5
	breakerOpen  = 3 * time.Second
)

// errNotBackend marks a failure that says nothing about the backend: a call
// abandoned by its caller (the client left), or a body the gateway could
// not build. The breaker does not count it.
var errNotBackend = errors.New("not the backend's failure")

// endpoint is one named backend and its breaker; safe for concurrent use.
type endpoint struct {
	name string
	url  string // without a trailing '/'
	cb   *gobreaker.CircuitBreaker[Answer]
}

func newEndpoint(name, url string, m *metrics, log *slog.Logger, open time.Duration) *endpoint {
	if open <= 0 {
		open = breakerOpen
	}
	state := m.breakerState.WithLabelValues(name)
	state.Set(0)
	return &endpoint{name: name, url: url, cb: gobreaker.NewCircuitBreaker[Answer](gobreaker.Settings{
		Name:        name,
		MaxRequests: 1,
		Timeout:     open,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= breakerTrips },
		// An error or disconnect answer is a success: the backend is alive
		// and decided. Only failures (and not the caller's own leaving) count.
		IsSuccessful: func(err error) bool { return err == nil || errors.Is(err, errNotBackend) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			state.Set(float64(to)) // 0 closed, 1 half-open, 2 open, as the metric says
			log.Warn("hook circuit breaker", "endpoint", name, "from", from.String(), "to", to.String())
		},
	})}
}
