package server

import (
	"context"
	"net/http"
	"strings"

	"github.com/wsgateway/wsgateway/service/internal/session"
	"github.com/wsgateway/wsgateway/service/internal/telemetry"
)

// handleUpgrade runs every check that can refuse a connection before the
// upgrade, where a plain HTTP status is still possible, then serves the
// session on this goroutine.
func (s *Server) handleUpgrade(w http.ResponseWriter, r *http.Request) {
	connects := s.sessions.Metrics().Connects
	if !s.accepting.Load() {
		connects.WithLabelValues(session.ConnectDraining).Inc()
		http.Error(w, "node draining", http.StatusServiceUnavailable)
		return
	}
	if !originAllowed(r, s.cfg.AllowedOrigins) {
		connects.WithLabelValues(session.ConnectOrigin).Inc()
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	ip := clientIP(r, s.cfg.TrustedProxies)
	if s.connRate != nil && !s.connRate.allow(ip) {
		connects.WithLabelValues(session.ConnectRateLimited).Inc()
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many connections from this address", http.StatusTooManyRequests)
		return
	}
	if s.active.Add(1) > int64(s.cfg.MaxConnections) {
		s.active.Add(-1)
		connects.WithLabelValues(session.ConnectOverLimit).Inc()
		http.Error(w, "node at connection limit", http.StatusServiceUnavailable)
		return
	}
	conn, err := s.upgrader.Upgrade(w, r, nil) // writes its own 4xx on failure
	if err != nil {
		s.active.Add(-1)
		connects.WithLabelValues(session.ConnectBadHandshake).Inc()
		return
	}
	conn.SetReadLimit(s.cfg.MaxMessageBytes)
	info := session.ConnInfo{Remote: ip.String(), Token: bearer(r)}
	if s.cfg.Tracer != nil {
		info.Trace = telemetry.FromHeaders(context.Background(), r.Header)
	}
	// The session runs on a goroutine of its own so that this handler
	// returns: net/http keeps its 8 KiB of connection buffers, the request
	// and the response reachable until then, for the socket's whole life.
	go func() {
		defer s.active.Add(-1)
		s.sessions.Serve(conn, info)
	}()
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}
