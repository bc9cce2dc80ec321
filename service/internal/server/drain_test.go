package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wsgateway/wsgateway/service/internal/auth"
	"github.com/wsgateway/wsgateway/service/internal/hub"
	"github.com/wsgateway/wsgateway/service/internal/session"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// closeRecorder stands for a connection in the drain's schedule: it records
// when (in the bubble's time since the drain began) and why it was closed.
type closeRecorder struct {
	start  time.Time
	at     []time.Duration
	reason protocol.Disconnect
}

func (c *closeRecorder) Close(reason protocol.Disconnect) {
	c.at = append(c.at, time.Since(c.start))
	c.reason = reason
}

// TestDrainSpread: the i-th of n connections is closed with 1012 at i/n of
// the window, no sooner and within one drainTick after, each once; with no
// window, all at once; an abort stops the closing where it is.
func TestDrainSpread(t *testing.T) {
	for _, tc := range []struct {
		name    string
		n       int
		window  time.Duration
		abortAt time.Duration // 0: never
		closed  int           // how many are closed in the end
	}{
		{"one every 200 ms over 20 s", 100, 20 * time.Second, 0, 100},
		{"three over 20 s", 3, 20 * time.Second, 0, 3},
		{"more connections than ticks", 5000, time.Second, 0, 5000},
		{"no window: all at once", 50, 0, 0, 50},
		{"no connections", 0, 20 * time.Second, 0, 0},
		{"an abort stops it", 100, 20 * time.Second, 5*time.Second + time.Millisecond, 26},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				conns := make([]*closeRecorder, tc.n)
				for i := range conns {
					conns[i] = &closeRecorder{start: start}
				}
				abort, cancel := context.WithCancel(t.Context())
				defer cancel()
				if tc.abortAt > 0 {
					time.AfterFunc(tc.abortAt, cancel)
				}
				done := spread(abort, conns, tc.window)
				if want := tc.abortAt == 0; done != want {
					t.Errorf("spread = %v, want %v", done, want)
				}
				closed := 0
				for i, c := range conns {
					if len(c.at) == 0 {
						continue
					}
					closed++
					due := time.Duration(float64(tc.window) * float64(i) / float64(tc.n))
					if len(c.at) != 1 || c.at[0] < due || c.at[0] >= due+drainTick || c.reason != protocol.CloseRestart {
						t.Fatalf("connection %d of %d: closed at %v with %v, want once at %v (+%v) with %v",
							i, tc.n, c.at, c.reason, due, drainTick, protocol.CloseRestart)
					}
				}
				if closed != tc.closed {
					t.Errorf("%d closed, want %d", closed, tc.closed)
				}
			})
		})
	}
}

// TestDrainPhases: /readyz fails from the first moment of the drain, while
// upgrades are still taken until the drain delay has passed; an abort
// during the delay ends the drain at once.
func TestDrainPhases(t *testing.T) {
	const delay = 5 * time.Second
	for _, tc := range []struct {
		name    string
		abortAt time.Duration // 0: never
		want    error
		endsAt  time.Duration
	}{
		{"no connections: done after the delay", 0, nil, delay},
		{"aborted during the delay", 2 * time.Second, ErrAborted, 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := testServer(t, Config{DrainDelay: delay, DrainWindow: 20 * time.Second})
				abort, cancel := context.WithCancel(t.Context())
				defer cancel()
				if tc.abortAt > 0 {
					time.AfterFunc(tc.abortAt, cancel)
				}
				start := time.Now()
				var err error
				ended := make(chan struct{})
				go func() {
					defer close(ended)
					err = s.drain(abort, &http.Server{})
				}()
				synctest.Wait()
				if got := readyz(s); got != http.StatusServiceUnavailable {
					t.Errorf("/readyz = %d as the drain begins, want 503", got)
				}
				if !s.accepting.Load() {
					t.Error("upgrades refused before the drain delay")
				}
				<-ended
				if !errors.Is(err, tc.want) {
					t.Errorf("drain = %v, want %v", err, tc.want)
				}
				if got := time.Since(start); got != tc.endsAt {
					t.Errorf("drain ended after %v, want %v", got, tc.endsAt)
				}
				if tc.want == nil && s.accepting.Load() {
					t.Error("upgrades still taken after the drain delay")
				}
			})
		})
	}
}

// testServer returns a Server over an in-process broker in --dev, not
// listening: its handlers are called directly.
func testServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	reg := prometheus.NewRegistry()
	log := slog.New(slog.DiscardHandler)
	cfg.Dev = true
	h := hub.New(reg, nil)
	b := newMemoryBroker(h)
	sm := session.NewManager(session.Config{}, b, h, auth.DevVerifier{}, log, reg)
	return New(cfg, sm, b, reg, reg, log)
}

// readyz returns the status /readyz answers.
func readyz(s *Server) int {
	w := httptest.NewRecorder()
	s.adminRoutes().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	return w.Code
}
