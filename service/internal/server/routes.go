package server

import (
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/wsgateway/wsgateway/service/internal/demo"
)

// clientRoutes is the client port: the WebSocket endpoint, and in --dev
// the demo chat page at / (with the JavaScript client beside it). Without
// --dev everything but /ws stays the mux's 404: production serves no page.
func (s *Server) clientRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", s.handleUpgrade)
	if s.cfg.Dev {
		page := demo.Handler()
		mux.Handle("GET /{$}", page)
		mux.Handle("GET /wsgateway.min.js", page)
	}
	return mux
}

// apiRoutes is the backend port. Every route needs the API key.
func (s *Server) apiRoutes() http.Handler {
	mux := http.NewServeMux()
	for _, r := range []struct {
		method, path string
		h            apiHandler
	}{
		{http.MethodPost, "/api/v1/publish", s.apiPublish},
		{http.MethodPost, "/api/v1/broadcast", s.apiBroadcast},
		{http.MethodPost, "/api/v1/disconnect", s.apiDisconnect},
		{http.MethodGet, "/api/v1/presence", s.apiPresence},
		{http.MethodGet, "/api/v1/history", s.apiHistory},
		{http.MethodGet, "/api/v1/nodes", s.apiNodes},
		{http.MethodPost, "/api/v1/reply", s.apiReply},
		{http.MethodGet, "/api/v1/inbox/dead", s.apiDead},
		{http.MethodPost, "/api/v1/inbox/redrive", s.apiRedrive},
	} {
		mux.Handle(r.path, s.api(r.method, r.path, r.h))
		s.m.apiCalls.WithLabelValues(r.path, "200") // the series exist from startup
	}
	mux.Handle("/", s.api("", "other", nil))
	return mux
}

// adminRoutes is the operator port.
func (s *Server) adminRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.HandleFunc("GET /readyz", s.handleReady)
	mux.Handle("GET /metrics", s.metricsHandler())
	if s.cfg.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", noReadTimeout(pprof.Profile))
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", noReadTimeout(pprof.Trace))
	}
	return mux
}

// noReadTimeout lifts the admin port's read timeout for a handler that runs
// longer than it (a 30 s profile): once it passes, net/http cancels the
// request's context, which would cut the profile short.
func noReadTimeout(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
		h(w, r)
	}
}
