package protocol

import (
	"errors"
	"fmt"
)

// Subprotocol is the WebSocket subprotocol this server speaks.
const Subprotocol = "wsgateway.v1"

// Error codes carried in a reply's error.code and in API error bodies.
const (
	CodeBadRequest           = "bad_request"
	CodeUnauthorized         = "unauthorized"
	CodePermissionDenied     = "permission_denied"
	CodeNotFound             = "not_found"
	CodeRateLimited          = "rate_limited"
	CodeTooManySubscriptions = "too_many_subscriptions"
	CodeUnavailable          = "unavailable"
	CodeInternal             = "internal"
)

// ErrorCodes lists every error code, for metrics and docs.
var ErrorCodes = []string{
	CodeBadRequest, CodeUnauthorized, CodePermissionDenied, CodeNotFound,
	CodeRateLimited, CodeTooManySubscriptions, CodeUnavailable, CodeInternal,
}

// Error is a failure a client or backend can act on: its Code is one of the
// Code* constants. Packages return it (or wrap it) so the edge can reply with
// the right code without knowing where the failure came from.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Is makes errors.Is match any *Error with the same code, so callers can test
// errors.Is(err, ErrUnavailable) against an error that carries its own message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Sentinel errors, one per code that callers decide on.
var (
	ErrUnavailable = &Error{Code: CodeUnavailable, Message: "a dependency is unavailable"}
	ErrNotFound    = &Error{Code: CodeNotFound, Message: "not found"}
)

// AsError returns the *Error inside err, or an internal error when err carries
// none (its text is not exposed: it may hold server details).
func AsError(err error) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	return &Error{Code: CodeInternal, Message: "internal error"}
}

// Disconnect is a reason to close a connection: the WebSocket close code and
// the short reason text sent in the close frame.
type Disconnect struct {
	Code   int
	Reason string
}

// The close reasons of the contract. Code values are part of the contract;
// reason texts are informative.
var (
	CloseNormal         = Disconnect{1000, "normal"}
	CloseGoingAway      = Disconnect{1001, "node going away"}
	CloseUnsupported    = Disconnect{1003, "binary frames are not supported"}
	CloseProtocolError  = Disconnect{1002, "protocol error"}
	CloseInvalidUTF8    = Disconnect{1007, "invalid UTF-8"}
	CloseBadDeflate     = Disconnect{1007, "invalid compressed data"}
	ClosePolicy         = Disconnect{1008, "three malformed frames in a row"}
	CloseTooBig         = Disconnect{1009, "frame too big"}
	CloseInternal       = Disconnect{1011, "internal error"}
	CloseStale          = Disconnect{1011, "no pong or traffic"}
	CloseRestart        = Disconnect{1012, "node draining"}
	CloseOverloaded     = Disconnect{1013, "node overloaded"}
	CloseUnauthorized   = Disconnect{4001, "unauthorized"}
	CloseTokenExpired   = Disconnect{4001, "token expired"}
	CloseDisconnected   = Disconnect{4003, "disconnected by the server API"}
	CloseSlowConsumer   = Disconnect{4008, "slow consumer"}
	CloseConnectTimeout = Disconnect{4009, "no connect command in time"}
	CloseRateLimited    = Disconnect{4029, "rate limited"}
)

// Reasons a connection ended without a close frame. 1006 is never sent
// (RFC 6455 reserves it for "no close frame"); the server records these so
// that its metrics and logs say how the connection ended.
var (
	// CloseConnectionLost: the peer went away (read error, reset, EOF)
	// before any close frame.
	CloseConnectionLost = Disconnect{1006, "connection lost"}
	// CloseWriteFailed: a write to the peer failed, which leaves the socket
	// unusable, so no close frame can follow.
	CloseWriteFailed = Disconnect{1006, "write failed"}
)

// CloseCodes lists every close code the server sends, for metrics.
var CloseCodes = []int{1000, 1001, 1002, 1003, 1006, 1007, 1008, 1009, 1011, 1012, 1013, 4001, 4003, 4008, 4009, 4029}
