package hooks

import (
	"encoding/json"
	"time"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// ConnectMode says who decides a connection's user: "token_then_hook" (the
// default: the JWT is verified first, then the hook is asked) or "hook" (the
// token is optional and the hook names the user, for cookie sessions).
type ConnectMode string

// The connect modes.
const (
	ModeTokenThenHook ConnectMode = "token_then_hook"
	ModeHook          ConnectMode = "hook"
)

// Request is one hook call's input; the hook adds hook, node and zone itself.
type Request struct {
	Client, User   string
	Meta           json.RawMessage   // from the connect hook's result, kept with the connection; nil: null
	Channel        string            // subscribe, publish
	Method         string            // rpc
	Data           json.RawMessage   // subscribe (optional), publish, rpc
	IdempotencyKey string            // publish: the client's key, sent in the body
	Headers        map[string]string // connect: the forwarded ones
	Claims         json.RawMessage   // connect: the verified JWT's claims, nil: null
	// Key is the Idempotency-Key header; empty: Call makes a random one for
	// this action. The session derives it for publish from (user, channel,
	// client key) so a client's retry of one publish carries the same header.
	Key string
	// CoalesceKey (connect only): identical concurrent calls with the same
	// non-empty key share one backend call (the session passes a hash of
	// token + forwarded headers); a positive result may be cached briefly,
	// never past ExpiresAt.
	CoalesceKey string
	ExpiresAt   time.Time // connect only: the token's exp (zero: none)
}

// Answer is what the action does next: exactly one of Result, Error,
// Disconnect is set. An Answer may be shared between coalesced connect
// calls: treat what its pointers reach as read-only.
type Answer struct {
	Result *Result
	// Error is the backend's error (a contract or app code), or unavailable
	// on a failure with on_error: reject.
	Error *protocol.Error
	// Disconnect closes the connection with this code (4100–4999) and reason.
	Disconnect *protocol.Disconnect
	// Failed: the call failed (timeout, refused, non-200, bad answer,
	// breaker open). With on_error: allow, Result is &Result{} and Failed is
	// still true (for metrics and logs); the session closes a *connecting*
	// client with 1013 when Failed && Error != nil.
	Failed bool
}

// Result is the backend's go-ahead, with what it changes.
type Result struct {
	User      string          // connect, mode hook only
	Subscribe []string        // connect: nil = keep the token's patterns; non-nil (even empty) = replace them
	Publish   []string        // likewise
	ExpireAt  int64           // connect: unix seconds, 0 = keep
	Meta      json.RawMessage // connect: kept with the connection
	Data      json.RawMessage // connect/subscribe: returned to the client; publish: replaces the data; rpc: the result
}
