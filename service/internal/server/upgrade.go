package server

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strings"

	"github.com/wsgateway/wsgateway/service/internal/session"
	"github.com/wsgateway/wsgateway/service/internal/telemetry"
)

// handleUpgrade runs every check that can refuse a connection before the
// upgrade, where a plain HTTP status is still possible, then serves the
// session on this goroutine.
func (s *Server) handleUpgrade(w http.ResponseWriter, r *http.Request) {
	if !s.accepting.Load() {
		s.m.refused[refusedDraining].Inc()
		http.Error(w, "node draining", http.StatusServiceUnavailable)
		return
	}
	if status, why := handshakeRefusal(r); status != 0 {
		s.m.refused[refusedBadHandshake].Inc()
		http.Error(w, why, status)
		return
	}
	if !originAllowed(r, s.cfg.AllowedOrigins) {
		s.m.refused[refusedOrigin].Inc()
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	ip := clientIP(r, s.cfg.TrustedProxies)
	if s.connRate != nil && !s.connRate.allow(ip) {
		s.m.refused[refusedRateLimited].Inc()
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many connections from this address", http.StatusTooManyRequests)
		return
	}
	if !s.sessions.Admit(s.cfg.MaxConnections) {
		s.m.refused[refusedOverLimit].Inc()
		http.Error(w, "node at connection limit", http.StatusServiceUnavailable)
		return
	}
	if s.cfg.Compression {
		w = guardedWriter{w}
	}
	conn, err := s.upgrader.Upgrade(w, r, nil) // writes its own 4xx on failure
	if err != nil {
		s.sessions.Release()
		s.m.refused[refusedBadHandshake].Inc()
		return
	}
	conn.SetReadLimit(wireLimit(s.cfg.MaxMessageBytes, s.cfg.Compression))
	info := session.ConnInfo{Remote: ip.String(), Token: bearer(r), Headers: s.sessions.ForwardedHeaders(r.Header)}
	if s.cfg.Tracer != nil {
		info.Trace = telemetry.FromHeaders(context.Background(), r.Header)
	}
	// The session runs on a goroutine of its own so that this handler
	// returns: net/http keeps its 8 KiB of connection buffers, the request
	// and the response reachable until then, for the socket's whole life.
	go func() {
		defer s.sessions.Release()
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

// wireLimit is gorilla's read limit, which counts bytes on the wire. The
// --max-message-bytes limit (docs/protocol.md#framing) applies to the message as the session reads it, inflated
// (the session enforces it while inflating); with compression the wire
// limit leaves room for deflate's framing of incompressible data, so that a
// message at the limit is not refused for its compressed form's overhead.
func wireLimit(limit int64, compression bool) int64 {
	if !compression {
		return limit
	}
	return limit + limit/256 + 64
}

// guardedWriter hands gorilla/websocket a hijacked connection whose frames
// are checked (session.GuardFrames) for what gorilla lets through once
// permessage-deflate is on: RSV1 on a control or continuation frame.
type guardedWriter struct{ http.ResponseWriter }

// Hijack passes on the bytes net/http had already read from the client
// through the guard, so that it sees the stream from its first byte.
func (g guardedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(g.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	var buffered []byte
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		buffered = append([]byte(nil), b...)
	}
	// gorilla reads nothing from an empty reader, and writes its handshake
	// through the writer, which is net/http's and unchanged.
	return session.GuardFrames(c, buffered), bufio.NewReadWriter(bufio.NewReaderSize(c, 16), brw.Writer), nil
}
