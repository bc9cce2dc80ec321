package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// Publish publishes data on channel and returns its position. data is
// marshalled with encoding/json, unless it is a json.RawMessage, which is
// sent as it is (after a validity check).
//
// Every publish carries an idempotency key: idempotencyKey, or when it is
// empty one that Publish generates. A repeat of a key on the same channel
// within 5 minutes returns the first publication's position instead of
// publishing again. Publish relies on that to retry by itself, with the same
// key, while the outcome is unknown or the gateway cannot serve: after an
// unavailable error (which may come from a publish that was applied all the
// same), after the connection was lost before the reply, and while the
// client is reconnecting. It waits BackoffBase·2ⁿ (jittered, at most
// BackoffMax) between attempts and stops when ctx ends, so give ctx a
// deadline. An error returned then may still belong to a publish that was
// applied: to retry it later, pass your own idempotencyKey and reuse it.
func (c *Client) Publish(ctx context.Context, channel string, data any, idempotencyKey string) (Position, error) {
	raw, err := marshalData(data)
	if err != nil {
		return Position{}, fmt.Errorf("publish %s: %w", channel, err)
	}
	if idempotencyKey == "" {
		idempotencyKey = newPublishKey()
	}
	cmd := protocol.Command{Op: protocol.OpPublish, Channel: channel, Data: raw, IdempotencyKey: idempotencyKey}
	for attempt := 0; ; attempt++ {
		var pos Position
		err := c.do(ctx, cmd, &pos)
		if err == nil {
			return pos, nil
		}
		if !c.retryable(err) || !sleepCtx(ctx, fullJitter(attempt, c.opts.BackoffBase, c.opts.BackoffMax, mrand.Int64N)) {
			return Position{}, err
		}
		c.log.Debug("publish retry", "channel", channel, "attempt", attempt+1, "err", err)
	}
}

// retryable reports whether a failed publish may be sent again: the gateway
// was unavailable, or the connection was lost or is being remade. Not before
// Start, nor after the client stopped: no connection will come.
func (c *Client) retryable(err error) bool {
	c.mu.Lock()
	running := c.started && !c.stopped
	c.mu.Unlock()
	var e *Error
	return running && (errors.Is(err, ErrNotConnected) || errors.As(err, &e) && e.Code == CodeUnavailable)
}

// newPublishKey returns a random idempotency key: 16 random bytes, so that
// two publishes never share one.
func newPublishKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "go-" + hex.EncodeToString(b[:])
}

// sleepCtx waits d, or less when ctx ends first; it reports whether it
// waited the full d.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
