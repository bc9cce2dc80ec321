package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wsgateway/wsgateway/service/internal/broker"
	"github.com/wsgateway/wsgateway/service/internal/hub"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// newMemoryBroker is the in-process broker of a single node, delivering to h.
func newMemoryBroker(h *hub.Hub) *broker.Memory {
	return broker.NewMemory(broker.MemoryOptions{HistorySize: 10}, h)
}

// TestAPICalls: each route's answer, and every way the API port refuses a
// call, through its real routes and an in-process broker: the HTTP status,
// the error code in the body, and the request counter's labels.
func TestAPICalls(t *testing.T) {
	const key = "k3y"
	auth := "apikey " + key
	for _, tc := range []struct {
		name, method, target, body, authz string
		status                            int
		code                              string // the body's error code; "" for a result
		route                             string // wsgateway_api_requests_total's label
	}{
		{"a publish", "POST", "/api/v1/publish", `{"channel":"a","data":{"x":1}}`, auth, 200, "", "/api/v1/publish"},
		{"a broadcast, one channel of it invalid", "POST", "/api/v1/broadcast", `{"channels":["a","b c"],"data":1}`, auth, 200, "", "/api/v1/broadcast"},
		{"history", "GET", "/api/v1/history?channel=a&since=0&limit=10", "", auth, 200, "", "/api/v1/history"},
		{"presence", "GET", "/api/v1/presence?channel=a&limit=5", "", auth, 200, "", "/api/v1/presence"},
		{"nodes", "GET", "/api/v1/nodes", "", auth, 200, "", "/api/v1/nodes"},
		{"a disconnect", "POST", "/api/v1/disconnect", `{"user":"alice"}`, auth, 200, "", "/api/v1/disconnect"},
		{"the key's scheme in any case", "POST", "/api/v1/publish", `{"channel":"a","data":1}`, "ApiKey " + key, 200, "", "/api/v1/publish"},
		{"no key", "POST", "/api/v1/publish", `{"channel":"a","data":1}`, "", 401, "unauthorized", "/api/v1/publish"},
		{"a wrong key", "GET", "/api/v1/nodes", "", "apikey nope", 401, "unauthorized", "/api/v1/nodes"},
		{"a bearer token is not a key", "GET", "/api/v1/nodes", "", "Bearer " + key, 401, "unauthorized", "/api/v1/nodes"},
		{"no such route", "GET", "/api/v2/publish", "", auth, 404, "not_found", "other"},
		{"the wrong method", "GET", "/api/v1/publish", "", auth, 405, "bad_request", "/api/v1/publish"},
		{"an invalid channel", "POST", "/api/v1/publish", `{"channel":"a b","data":1}`, auth, 400, "bad_request", "/api/v1/publish"},
		{"no data", "POST", "/api/v1/publish", `{"channel":"a"}`, auth, 400, "bad_request", "/api/v1/publish"},
		{"a body that is not JSON", "POST", "/api/v1/publish", `{"channel":"a","data":}`, auth, 400, "bad_request", "/api/v1/publish"},
		{"a duplicate field", "POST", "/api/v1/publish", `{"channel":"a","channel":"b","data":1}`, auth, 400, "bad_request", "/api/v1/publish"},
		{"a body over 1 MiB", "POST", "/api/v1/publish", `{"channel":"a","data":"` + strings.Repeat("x", maxAPIBody) + `"}`, auth, 400, "bad_request", "/api/v1/publish"},
		{"an idempotency key too long", "POST", "/api/v1/publish",
			`{"channel":"a","data":1,"idempotency_key":"` + strings.Repeat("k", protocol.MaxIdempotencyKeyLen+1) + `"}`, auth, 400, "bad_request", "/api/v1/publish"},
		{"a broadcast to no channel", "POST", "/api/v1/broadcast", `{"channels":[],"data":1}`, auth, 400, "bad_request", "/api/v1/broadcast"},
		{"a disconnect without a user", "POST", "/api/v1/disconnect", `{}`, auth, 400, "bad_request", "/api/v1/disconnect"},
		{"history since that is not a number", "GET", "/api/v1/history?channel=a&since=-1", "", auth, 400, "bad_request", "/api/v1/history"},
		{"presence with a negative limit", "GET", "/api/v1/presence?channel=a&limit=-1", "", auth, 400, "bad_request", "/api/v1/presence"},
		{"presence without a channel", "GET", "/api/v1/presence", "", auth, 400, "bad_request", "/api/v1/presence"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := testServer(t, Config{APIKey: key})
			r := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
			if tc.authz != "" {
				r.Header.Set("Authorization", tc.authz)
			}
			w := httptest.NewRecorder()
			s.apiRoutes().ServeHTTP(w, r)
			checkAnswer(t, w, tc.status, tc.code)
			if got := apiCalls(t, s, tc.route, tc.status); got != 1 {
				t.Errorf("wsgateway_api_requests_total{route=%q,code=\"%d\"} = %v, want 1", tc.route, tc.status, got)
			}
		})
	}
}

// TestAPIErrorMapping: the errors a broker returns become the contract's
// HTTP status and error code; an error that carries no code is an internal
// one, whose text (server details) is not shown.
func TestAPIErrorMapping(t *testing.T) {
	for _, tc := range []struct {
		name          string
		err           error
		status        int
		code, message string // message "": not checked
	}{
		{"Redis down (the breaker)", fmt.Errorf("redis publish: circuit open: %w", protocol.ErrUnavailable), 503, "unavailable", ""},
		{"too few replicas acknowledged", fmt.Errorf("publish a: 0 of 1 replicas: %w", protocol.ErrUnavailable), 503, "unavailable", ""},
		{"not found", fmt.Errorf("history a: %w", protocol.ErrNotFound), 404, "not_found", ""},
		{"a coded error", protocol.Errorf(protocol.CodeRateLimited, "slow down"), 429, "rate_limited", "slow down"},
		{"permission denied", protocol.Errorf(protocol.CodePermissionDenied, "no"), 403, "permission_denied", "no"},
		{"too many subscriptions", protocol.Errorf(protocol.CodeTooManySubscriptions, "no"), 400, "too_many_subscriptions", "no"},
		{"an error without a code", fmt.Errorf("READONLY You can't write against a read only replica"), 500, "internal", "internal error"},
		{"a deadline", fmt.Errorf("publish a: %w", context.DeadlineExceeded), 500, "internal", "internal error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := testServer(t, Config{})
			h := s.api(http.MethodPost, "/test", func(*http.Request) (any, error) { return nil, tc.err })
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/test", nil))
			e := checkAnswer(t, w, tc.status, tc.code)
			if tc.message != "" && e.Message != tc.message {
				t.Errorf("message %q, want %q", e.Message, tc.message)
			}
		})
	}
}

// TestAPIStatusForEveryCode: every error code of the protocol has its HTTP
// status, so that no error can answer with none.
func TestAPIStatusForEveryCode(t *testing.T) {
	for _, code := range protocol.ErrorCodes {
		if statusOf[code] < 400 {
			t.Errorf("error code %q has no HTTP status", code)
		}
	}
}

// checkAnswer checks a JSON answer's status and error code, and returns the
// error (nil for a result).
func checkAnswer(t *testing.T, w *httptest.ResponseRecorder, status int, code string) *protocol.Error {
	t.Helper()
	if w.Code != status {
		t.Errorf("status %d, want %d (body %s)", w.Code, status, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var body struct{ Error *protocol.Error }
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", w.Body, err)
	}
	switch {
	case code == "" && body.Error != nil:
		t.Errorf("error %+v, want a result", body.Error)
	case code != "" && (body.Error == nil || body.Error.Code != code):
		t.Errorf("body %s, want error code %q", w.Body, code)
	}
	return body.Error
}

// apiCalls reads wsgateway_api_requests_total{route, code}.
func apiCalls(t *testing.T, s *Server, route string, status int) float64 {
	t.Helper()
	return counterValue(t, s.m.apiCalls.WithLabelValues(route, fmt.Sprint(status)))
}
