package server

import (
	"crypto/subtle"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// apiHandler answers one API call with a result to encode or an error.
type apiHandler func(r *http.Request) (any, error)

// maxAPIBody bounds an API request body.
const maxAPIBody = 1 << 20

// api wraps h with the method check, the API key check, the JSON encoding
// of results and errors, and the request counter.
func (s *Server) api(method, route string, h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var res any
		var err error
		switch {
		case !s.apiKeyOK(r):
			refuseBody(w)
			err = protocol.Errorf(protocol.CodeUnauthorized, "missing or wrong API key (Authorization: apikey <key>)")
		case h == nil:
			err = protocol.Errorf(protocol.CodeNotFound, "no such API route: %s", r.URL.Path)
		case r.Method != method:
			w.Header().Set("Allow", method)
			err = &methodError{method}
		default:
			r.Body = http.MaxBytesReader(w, r.Body, maxAPIBody)
			res, err = h(r)
		}
		code := s.writeAPI(w, r, res, err)
		s.m.apiCalls.WithLabelValues(route, strconv.Itoa(code)).Inc()
	})
}

// refuseBody makes the server close the connection after the answer
// without reading what is left of the request body. Otherwise net/http
// drains up to 256 KiB of it after the handler returns, to keep the
// connection alive: a caller without a key could hold a goroutine by
// sending that body one byte at a time.
func refuseBody(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	// A read deadline in the past fails the drain at once; the response is
	// written before it, so the caller still gets its 401.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now())
}

type methodError struct{ allow string }

func (e *methodError) Error() string { return "method not allowed: use " + e.allow }

// apiKeyOK checks "Authorization: apikey <key>". Without a configured key
// every call is refused, except in --dev where no key is needed.
func (s *Server) apiKeyOK(r *http.Request) bool {
	if s.cfg.Dev && s.cfg.APIKey == "" {
		return true
	}
	if s.cfg.APIKey == "" {
		return false
	}
	scheme, key, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	return ok && strings.EqualFold(scheme, "apikey") &&
		subtle.ConstantTimeCompare([]byte(strings.TrimSpace(key)), []byte(s.cfg.APIKey)) == 1
}

// statusOf maps error codes to HTTP statuses, as docs/protocol.md#error-codes
// lists them.
var statusOf = map[string]int{
	protocol.CodeBadRequest:           http.StatusBadRequest,
	protocol.CodeUnauthorized:         http.StatusUnauthorized,
	protocol.CodePermissionDenied:     http.StatusForbidden,
	protocol.CodeNotFound:             http.StatusNotFound,
	protocol.CodeRateLimited:          http.StatusTooManyRequests,
	protocol.CodeTooManySubscriptions: http.StatusBadRequest,
	protocol.CodeUnavailable:          http.StatusServiceUnavailable,
	protocol.CodeInternal:             http.StatusInternalServerError,
}

func (s *Server) writeAPI(w http.ResponseWriter, r *http.Request, res any, err error) int {
	w.Header().Set("Content-Type", "application/json")
	if err == nil {
		body, _ := protocol.MarshalResult(res) // API result types always marshal
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(append(body, '\n'))
		return http.StatusOK
	}
	status, e := http.StatusMethodNotAllowed, protocol.Errorf(protocol.CodeBadRequest, "%s", err.Error())
	if me := (*methodError)(nil); !errors.As(err, &me) {
		e = protocol.AsError(err)
		status = statusOf[e.Code]
		if e.Code == protocol.CodeInternal {
			s.log.Error("api call failed", "path", r.URL.Path, "err", err)
		}
	}
	body := protocol.AppendError(nil, 0, e)
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
	return status
}

// decodeBody reads a JSON body into v, as strictly as a client's command
// (protocol.UnmarshalStrict): exact field names, no duplicate names, nothing
// after the object. Unknown fields are ignored so that backends may be
// newer than the gateway.
func decodeBody(r *http.Request, v any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return protocol.Errorf(protocol.CodeBadRequest, "body larger than %d bytes", tooBig.Limit)
		}
		return protocol.Errorf(protocol.CodeBadRequest, "reading the body: %v", err)
	}
	if err := protocol.UnmarshalStrict(body, v); err != nil {
		e := protocol.BadJSON(err)
		e.Message = "body: " + e.Message
		return e
	}
	return nil
}
