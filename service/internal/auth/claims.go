package auth

import (
	"strings"
	"time"
)

// personalPrefix starts a user's personal channel, "user:<id>". Everything
// after it is the id, ':' included, so the whole "user" namespace is personal.
const personalPrefix = "user:"

// Claims is what a verified token grants one connection. It is immutable
// once returned by Verify or Anonymous, so it may be shared between
// goroutines without locking.
type Claims struct {
	// User is the token's sub; empty only for Anonymous.
	User string
	// ExpiresAt is the token's exp, or the zero time when it has none.
	ExpiresAt time.Time
	// Subscribe holds the channel patterns (see Match) the user may subscribe to.
	Subscribe []string
	// Publish holds the channel patterns the user may publish to.
	Publish []string
	// Send holds the inbox topic patterns (see Match) the user may send to.
	Send []string

	all bool // dev mode: every pattern permission granted
}

// Anonymous returns the Claims of a client in development mode: no user and
// every permission, still subject to the personal channel rule (which, with
// no user, means no personal channel at all).
func Anonymous() *Claims {
	return &Claims{all: true}
}

// CanSubscribe reports whether c may subscribe to channel. A personal
// channel "user:<id>" is allowed exactly when id is c.User, whatever the
// patterns say; any other channel needs a matching Subscribe pattern. Nil
// Claims may do nothing.
func (c *Claims) CanSubscribe(channel string) bool {
	if c == nil {
		return false
	}
	if owner, ok := strings.CutPrefix(channel, personalPrefix); ok {
		return c.User != "" && owner == c.User
	}
	return c.all || matchAny(c.Subscribe, channel)
}

// CanPublish reports whether c may publish to channel: a Publish pattern must
// match it. Personal channels get no special case here: publishing to
// "user:bob" is how a user reaches bob, when a pattern allows it. Nil Claims
// may do nothing.
func (c *Claims) CanPublish(channel string) bool {
	if c == nil {
		return false
	}
	return c.all || matchAny(c.Publish, channel)
}

// CanSend reports whether c may send to the inbox topic: a Send pattern must
// match it, as for publish. Nil Claims may do nothing.
func (c *Claims) CanSend(topic string) bool {
	if c == nil {
		return false
	}
	return c.all || matchAny(c.Send, topic)
}
