package server

import (
	"context"
	"net/http"
	"time"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// drainTick is how often the drain closes the next share of connections.
const drainTick = 10 * time.Millisecond

// drain runs docs/operations.md#draining-and-rollouts: readiness off now,
// upgrades off after the delay, then every connection closed with 1012, spread evenly over the
// window so clients do not reconnect all at once.
func (s *Server) drain(abort context.Context, client *http.Server) error {
	s.draining.Store(true)
	s.m.draining.Set(1)
	s.log.Info("draining", "delay", s.cfg.DrainDelay.String(), "window", s.cfg.DrainWindow.String())
	if !sleep(abort, s.cfg.DrainDelay) {
		return ErrAborted
	}
	s.accepting.Store(false)
	shutdownCtx, cancel := context.WithTimeout(abort, 5*time.Second)
	_ = client.Shutdown(shutdownCtx) // hijacked WebSockets are not waited for
	cancel()
	if !s.closeSpread(abort) {
		return ErrAborted
	}
	// Closing takes a close handshake; wait for the sessions to finish.
	deadline := time.Now().Add(10 * time.Second)
	for s.sessions.Count() > 0 && time.Now().Before(deadline) {
		if !sleep(abort, drainTick) {
			return ErrAborted
		}
	}
	s.log.Info("drained", "left", s.sessions.Count())
	return nil
}

// closeSpread closes every session with 1012, spread over the window, then
// the sessions that arrived meanwhile (none: upgrades are off, but the last
// handshakes may still have been finishing).
func (s *Server) closeSpread(abort context.Context) bool {
	if !spread(abort, s.sessions.Sessions(), s.cfg.DrainWindow) {
		return false
	}
	for _, c := range s.sessions.Sessions() { // stragglers from the last handshakes
		c.Close(protocol.CloseRestart)
	}
	return true
}

// spread closes conns with 1012, the i-th of n at i/n of window (all at once
// when window is 0), looking every drainTick. It reports false when abort
// cut it short. It takes anything that closes, so that its schedule can be
// tested without sockets.
func spread[C interface{ Close(protocol.Disconnect) }](abort context.Context, conns []C, window time.Duration) bool {
	n := len(conns)
	start := time.Now()
	for i := 0; i < n; {
		due := n
		if window > 0 {
			due = min(n, int(float64(n)*float64(time.Since(start))/float64(window))+1)
		}
		for ; i < due; i++ {
			conns[i].Close(protocol.CloseRestart)
		}
		if i < n && !sleep(abort, drainTick) {
			return false
		}
	}
	return true
}

// sleep waits d, or returns false early when ctx is done.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
