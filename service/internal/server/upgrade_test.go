package server

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// TestUpgradeRefusals: every check before the upgrade refuses with a plain
// HTTP status and counts its result in wsgateway_connects_total, and a
// refused upgrade holds no place among --max-connections.
func TestUpgradeRefusals(t *testing.T) {
	open := Config{MaxConnections: 10}
	for _, tc := range []struct {
		name     string
		cfg      Config
		draining bool
		request  func(r *http.Request)
		tries    int // the same request, from the same address; the last is checked
		status   int
		result   string
	}{
		{"draining", open, true, nil, 1, 503, refusedDraining},
		{"HTTP/1.0", open, false, func(r *http.Request) { r.ProtoMajor, r.ProtoMinor = 1, 0 }, 1, 400, refusedBadHandshake},
		{"only another subprotocol offered", open, false,
			func(r *http.Request) { r.Header.Set("Sec-WebSocket-Protocol", "mqtt") }, 1, 400, refusedBadHandshake},
		{"an Origin of another host", open, false,
			func(r *http.Request) { r.Header.Set("Origin", "https://evil.example") }, 1, 403, refusedOrigin},
		// The burst (2) lets two through, to fail as handshakes: no Connection header.
		{"beyond the connect rate's burst", Config{MaxConnections: 10, ConnectRate: 1}, false,
			func(r *http.Request) { r.Header.Del("Connection") }, 3, 429, refusedRateLimited},
		{"at the connection limit", Config{MaxConnections: 0}, false, nil, 1, 503, refusedOverLimit},
		{"not a WebSocket handshake (gorilla's check)", open, false,
			func(r *http.Request) { r.Header.Del("Sec-WebSocket-Key") }, 1, 400, refusedBadHandshake},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := testServer(t, tc.cfg)
			s.accepting.Store(!tc.draining)
			var w *httptest.ResponseRecorder
			for range tc.tries {
				r := httptest.NewRequest(http.MethodGet, "http://gw.test/ws", nil)
				r.RemoteAddr = "203.0.113.7:4000"
				r.Header.Set("Connection", "Upgrade")
				r.Header.Set("Upgrade", "websocket")
				r.Header.Set("Sec-WebSocket-Version", "13")
				r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
				if tc.request != nil {
					tc.request(r)
				}
				w = httptest.NewRecorder()
				s.clientRoutes().ServeHTTP(w, r)
			}
			if w.Code != tc.status {
				t.Errorf("status %d, want %d (%s)", w.Code, tc.status, w.Body)
			}
			if tc.status == http.StatusTooManyRequests && w.Header().Get("Retry-After") != "1" {
				t.Errorf("Retry-After %q, want 1", w.Header().Get("Retry-After"))
			}
			if got := counterValue(t, s.m.refused[tc.result]); got != 1 {
				t.Errorf("wsgateway_connects_total{result=%q} = %v, want 1", tc.result, got)
			}
			if n := s.sessions.Count(); n != 0 {
				t.Errorf("%d connections held after the refusal, want 0", n)
			}
		})
	}
}

// counterValue reads a counter.
func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
