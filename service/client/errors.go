package client

import (
	"errors"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// Error is an error reply from the server. Callers pick it out with errors.As
// and decide on Code, one of the Code* constants:
//
//	var e *client.Error
//	if errors.As(err, &e) && e.Code == client.CodeUnavailable { ... }
type Error protocol.Error

// Error returns "wsgateway: <code>: <message>".
func (e *Error) Error() string {
	if e.Message == "" {
		return "wsgateway: " + e.Code
	}
	return "wsgateway: " + e.Code + ": " + e.Message
}

// The error codes the server puts in Error.Code (protocol.ErrorCodes).
const (
	CodeBadRequest           = protocol.CodeBadRequest
	CodeUnauthorized         = protocol.CodeUnauthorized
	CodePermissionDenied     = protocol.CodePermissionDenied
	CodeNotFound             = protocol.CodeNotFound
	CodeRateLimited          = protocol.CodeRateLimited
	CodeTooManySubscriptions = protocol.CodeTooManySubscriptions
	CodeUnavailable          = protocol.CodeUnavailable
	CodeInternal             = protocol.CodeInternal
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

// Close codes the server uses, for comparing with DisconnectEvent.Code.
// Codes 1000–1013 are RFC 6455's. What the client does after each is
// protocol.PolicyFor's answer (docs/protocol.md, "Reconnecting").
const (
	CloseNormal         = 1000 // normal closure
	CloseGoingAway      = 1001 // node going away
	CloseUnsupported    = 1003 // the client sent a binary frame
	CloseAbnormal       = 1006 // no close frame: network drop, dial or token failure
	CloseInvalidUTF8    = 1007 // a frame that is not valid UTF-8, or does not inflate
	ClosePolicy         = 1008 // three malformed frames in a row
	CloseTooBig         = 1009 // frame over the server's --max-message-bytes
	CloseInternal       = 1011 // server error, or no pong or traffic
	CloseRestart        = 1012 // node draining for a restart
	CloseOverloaded     = 1013 // node overloaded
	CloseUnauthorized   = 4001 // token missing, invalid or expired
	CloseDisconnected   = 4003 // disconnected by the API
	CloseSlowConsumer   = 4008 // send queue overflowed
	CloseConnectTimeout = 4009 // no connect in time
	CloseRateLimited    = 4029 // rate limited
)

// terminal reports whether a close code from the server means "stay closed":
// the server asked for it, or reconnecting would repeat a client bug. 4001
// reconnects: Options.Token is asked for a new token before every connect.
func terminal(code int) bool {
	return protocol.PolicyFor(code).Action == protocol.StayClosed
}
