package client

import "errors"

// Error is an error reply from the server. Callers pick it out with errors.As
// and decide on Code, one of the Code* constants:
//
//	var e *client.Error
//	if errors.As(err, &e) && e.Code == client.CodeUnavailable { ... }
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error returns "wsgateway: <code>: <message>".
func (e *Error) Error() string {
	if e.Message == "" {
		return "wsgateway: " + e.Code
	}
	return "wsgateway: " + e.Code + ": " + e.Message
}

// The error codes the server puts in Error.Code.
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

var (
	// ErrNotConnected is returned by a call made while the client has no
	// connection, and (wrapped together with the cause) by a call whose
	// connection was lost before its reply came. Calls are never queued;
	// only subscriptions are remembered across reconnects.
	ErrNotConnected = errors.New("wsgateway client: not connected")
	// ErrClosed is returned by calls made after Close, or after the client
	// stopped for good on a terminal close code.
	ErrClosed = errors.New("wsgateway client: closed")
)

// Close codes the server uses (CONTRACT.md §2), for comparing with
// DisconnectEvent.Code. Codes 1000–1013 are RFC 6455's.
const (
	CloseNormal         = 1000 // stay closed
	CloseGoingAway      = 1001 // node going away: reconnect
	CloseUnsupported    = 1003 // binary frame: client bug, stay closed
	CloseAbnormal       = 1006 // no close frame: network drop, dial or token failure
	ClosePolicy         = 1008 // malformed frames: client bug, stay closed
	CloseTooBig         = 1009 // frame too big: client bug, stay closed
	CloseInternal       = 1011 // server error: reconnect
	CloseRestart        = 1012 // node draining: reconnect and recover
	CloseOverloaded     = 1013 // node overloaded: reconnect
	CloseUnauthorized   = 4001 // token missing, invalid or expired: new token, reconnect
	CloseDisconnected   = 4003 // disconnected by the API: stay closed
	CloseSlowConsumer   = 4008 // send queue overflowed: reconnect and recover
	CloseConnectTimeout = 4009 // no connect in time: client bug, stay closed
	CloseRateLimited    = 4029 // rate limited: reconnect later
)

// terminal reports whether a close code from the server means "stay closed":
// the server asked for it, or reconnecting would repeat a client bug.
func terminal(code int) bool {
	switch code {
	case CloseNormal, CloseUnsupported, ClosePolicy, CloseTooBig, CloseDisconnected, CloseConnectTimeout:
		return true
	}
	return false
}
