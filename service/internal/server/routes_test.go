package server

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wsgateway/wsgateway/service/internal/auth"
	"github.com/wsgateway/wsgateway/service/internal/hub"
	"github.com/wsgateway/wsgateway/service/internal/session"
)

// TestDemoPageOnlyInDev: in --dev the client port serves the demo chat at /
// and the client script; without --dev both stay what they were before the
// demo existed, the mux's 404, and /ws is unchanged either way.
func TestDemoPageOnlyInDev(t *testing.T) {
	for _, tc := range []struct {
		dev        bool
		method     string
		path       string
		status     int
		typePrefix string
	}{
		{true, "GET", "/", 200, "text/html"},
		{true, "GET", "/wsgateway.min.js", 200, "text/javascript"},
		{true, "GET", "/nothing-here", 404, ""},
		{true, "POST", "/ws", 405, ""},
		{false, "GET", "/", 404, ""},
		{false, "GET", "/wsgateway.min.js", 404, ""},
		{false, "POST", "/ws", 405, ""},
	} {
		name := tc.method + " " + tc.path
		if tc.dev {
			name = "dev " + name
		}
		t.Run(name, func(t *testing.T) {
			s := routesServer(t, tc.dev)
			w := httptest.NewRecorder()
			s.clientRoutes().ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d", w.Code, tc.status)
			}
			if ct := w.Header().Get("Content-Type"); tc.typePrefix != "" && !strings.HasPrefix(ct, tc.typePrefix) {
				t.Errorf("Content-Type %q, want %s", ct, tc.typePrefix)
			}
			if tc.status == http.StatusNotFound && w.Body.String() != "404 page not found\n" {
				t.Errorf("404 body %q, want the mux's own", w.Body.String())
			}
		})
	}
}

// routesServer is a server whose routes are called directly, with or
// without --dev.
func routesServer(t *testing.T, dev bool) *Server {
	t.Helper()
	reg := prometheus.NewRegistry()
	log := slog.New(slog.DiscardHandler)
	h := hub.New(reg, nil)
	b := newMemoryBroker(h)
	sm := session.NewManager(session.Config{}, b, h, auth.DevVerifier{}, log, reg)
	return New(Config{Dev: dev}, sm, b, reg, reg, log)
}
