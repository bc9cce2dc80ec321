package protocol

import "time"

// Action is what a client does after the server closed its connection.
type Action string

// The actions of the close-code policy.
const (
	// Reconnect: dial again after the rule's backoff and recover every
	// subscription by offset and epoch.
	Reconnect Action = "reconnect"
	// NewToken: get a new token first (the old one will be refused again),
	// then reconnect as for Reconnect.
	NewToken Action = "new_token"
	// StayClosed: the server asked for it, or a retry would repeat a client
	// bug: the client stops and tells its user.
	StayClosed Action = "stay_closed"
)

// Backoff names how a reconnecting client spaces its attempts. Every class
// is exponential backoff with full jitter: before retry n (from 0) it waits
// MinDelay plus a uniformly random time in [0, max(Window, min(cap,
// base·2ⁿ))), BackoffBase and BackoffCap by default; n goes back to 0 once a
// connection stayed up BackoffStableAfter. The classes differ in the first
// attempts.
type Backoff string

// The backoff classes of the close-code policy.
const (
	// BackoffFull is the plain sequence: the first retry comes within base.
	BackoffFull Backoff = "full"
	// BackoffSpread is for a node that closed many clients at once (going
	// away, draining): every attempt, the first included, is spread over at
	// least a second, so that they do not all dial within one instant.
	BackoffSpread Backoff = "spread"
	// BackoffSlow is for an overloaded node or a client that sent too much:
	// every attempt waits at least a second on top of the spread.
	BackoffSlow Backoff = "slow"
)

// The backoff sequence's numbers, the same for every class: the defaults of
// every client library.
const (
	BackoffBase        = 250 * time.Millisecond
	BackoffCap         = 10 * time.Second
	BackoffStableAfter = 30 * time.Second
)

// BackoffClass holds the numbers of one Backoff class.
type BackoffClass struct {
	// MinDelay is added to every wait.
	MinDelay time.Duration
	// Window is the least width of the random part of every wait.
	Window time.Duration
}

// BackoffClasses gives each Backoff its numbers.
var BackoffClasses = map[Backoff]BackoffClass{
	BackoffFull:   {},
	BackoffSpread: {Window: time.Second},
	BackoffSlow:   {MinDelay: time.Second, Window: time.Second},
}

// ReconnectPolicy is what a client does after one close code (ClosePolicy,
// 1008, is a Disconnect).
type ReconnectPolicy struct {
	Action Action `json:"action"`
	// Backoff is empty for StayClosed.
	Backoff Backoff `json:"backoff,omitempty"`
}

// CloseRule gives the policy of the close codes From to To (inclusive; one
// code when they are equal).
type CloseRule struct {
	From, To int
	ReconnectPolicy
	// Meaning says when the server sends it, for people.
	Meaning string
}

// CloseRules is the close-code policy every client library follows (docs
// "Close codes" and "Reconnecting"); testdata/close_policy.json holds the
// same data for the libraries in other languages. A code no rule names is
// treated like 1011: reconnect with backoff (DefaultReconnectPolicy).
var CloseRules = []CloseRule{
	{1000, 1000, ReconnectPolicy{StayClosed, ""}, "normal closure"},
	{1001, 1001, ReconnectPolicy{Reconnect, BackoffSpread}, "node going away"},
	{1002, 1002, ReconnectPolicy{Reconnect, BackoffFull}, "protocol error in the client's frames (RSV1 misuse with compression)"},
	{1003, 1003, ReconnectPolicy{StayClosed, ""}, "the client sent a binary frame: fix the client"},
	{1006, 1006, ReconnectPolicy{Reconnect, BackoffFull}, "never sent: a library reports it when the connection dropped without a close frame"},
	{1007, 1007, ReconnectPolicy{StayClosed, ""}, "a text frame that is not valid UTF-8, or compressed data that does not inflate: fix the client"},
	{1008, 1008, ReconnectPolicy{StayClosed, ""}, "three malformed frames in a row: fix the client"},
	{1009, 1009, ReconnectPolicy{StayClosed, ""}, "a message over --max-message-bytes: fix the client"},
	{1011, 1011, ReconnectPolicy{Reconnect, BackoffFull}, "internal error, or no pong or traffic for twice the ping interval"},
	{1012, 1012, ReconnectPolicy{Reconnect, BackoffSpread}, "node draining for a restart"},
	{1013, 1013, ReconnectPolicy{Reconnect, BackoffSlow}, "node overloaded: the load balancer picks another"},
	{4001, 4001, ReconnectPolicy{NewToken, BackoffFull}, "token missing, invalid or expired"},
	{4003, 4003, ReconnectPolicy{StayClosed, ""}, "disconnected by the backend API"},
	{4008, 4008, ReconnectPolicy{Reconnect, BackoffFull}, "slow consumer: the send queue overflowed"},
	{4009, 4009, ReconnectPolicy{StayClosed, ""}, "no connect within 10 s of the upgrade: fix the client"},
	{4029, 4029, ReconnectPolicy{Reconnect, BackoffSlow}, "rate limited for more than a second"},
	{4100, 4499, ReconnectPolicy{Reconnect, BackoffFull}, "a backend hook disconnected the client and allows it back"},
	{4500, 4999, ReconnectPolicy{StayClosed, ""}, "a backend hook disconnected the client for good"},
}

// DefaultReconnectPolicy applies to every code no rule names: the list may grow,
// and a client that gives up on an unknown code could never come back.
var DefaultReconnectPolicy = ReconnectPolicy{Reconnect, BackoffFull}

// PolicyFor returns the policy of close code code.
func PolicyFor(code int) ReconnectPolicy {
	for _, r := range CloseRules {
		if r.From <= code && code <= r.To {
			return r.ReconnectPolicy
		}
	}
	return DefaultReconnectPolicy
}

// Policy is what a client does after d: PolicyFor(d.Code).
func (d Disconnect) Policy() ReconnectPolicy { return PolicyFor(d.Code) }
