package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// subState is what the client remembers of one channel; Client.mu guards
// it. Every Subscribe makes a new one, so a late reply or event about an
// earlier subscription recognises itself as stale by pointer.
type subState struct {
	// active: subscribed, or to be at the next connect. False after an
	// unsub push or a refused subscribe; the entry stays for its position.
	active  bool
	pos     Position
	hasPos  bool
	retries int // transient refusals of the resubscription in a row
	// data goes with every subscribe of the channel, resubscriptions
	// included: the backend's subscribe hook sees it each time.
	data json.RawMessage
}

// subscribeDone is an accepted subscribe, for the event goroutine.
type subscribeDone struct {
	channel    string
	state      *subState
	recovering bool
	result     protocol.SubscribeResult
}

// Subscribe subscribes to channel and remembers it, so it is resubscribed
// (with recovery) after every reconnect. When connected it sends subscribe
// and returns the server's answer: a refusal (*Error) forgets the channel.
// When not connected, or when the connection is lost before the reply, it
// returns nil and subscribes at the next connect. If ctx ends first, the
// channel stays remembered (the server may have subscribed it); Unsubscribe
// forgets it. Subscribing to a subscribed channel does nothing.
func (c *Client) Subscribe(ctx context.Context, channel string) error {
	_, err := c.subscribe(ctx, channel, nil, nil)
	return err
}

// SubscribeWithData is Subscribe sending data (any value encoding/json
// accepts, or a json.RawMessage) to the backend's subscribe hook, with this
// subscribe and every resubscription after a reconnect. It returns the
// data the hook answered (nil when none, or when not connected: then it
// comes in the SubscribedEvent at the next connect). Subscribing to a
// subscribed channel does nothing and returns nil.
func (c *Client) SubscribeWithData(ctx context.Context, channel string, data any) (json.RawMessage, error) {
	raw, err := marshalData(data)
	if err != nil {
		return nil, fmt.Errorf("subscribe %s: encode data: %w", channel, err)
	}
	return c.subscribe(ctx, channel, nil, raw)
}

// SubscribeFrom is Subscribe with recovery from a known position: the
// publications after offset in epoch are delivered first, or
// OnRecoveryFailed is called when the server no longer has them.
func (c *Client) SubscribeFrom(ctx context.Context, channel string, offset uint64, epoch string) error {
	_, err := c.subscribe(ctx, channel, &Position{Offset: offset, Epoch: epoch}, nil)
	return err
}

// subscribe returns the data of the subscribe result, if any.
func (c *Client) subscribe(ctx context.Context, channel string, from *Position, data json.RawMessage) (json.RawMessage, error) {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	if s := c.subs[channel]; s != nil && s.active {
		c.mu.Unlock()
		return nil, nil
	}
	s := &subState{active: true, data: data}
	if from != nil {
		s.pos, s.hasPos = *from, true
	}
	c.subs[channel] = s
	cn := c.conn
	var cmd protocol.Command
	var cl *call
	if cn != nil {
		cmd, cl = c.subscribeCall(cn, channel, s, false)
	}
	c.mu.Unlock()
	if cn == nil {
		return nil, nil
	}
	raw, err := cn.call(ctx, cmd, cl)
	if errors.Is(err, ErrNotConnected) {
		return nil, nil // still remembered: subscribed at the next connect
	}
	if err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", channel, err)
	}
	var res struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return nil, fmt.Errorf("subscribe %s: decode result: %w", channel, err)
	}
	return res.Data, nil
}

// Unsubscribe forgets channel and, when connected, unsubscribes from it.
// Publications of the channel still queued for OnPublication are dropped.
func (c *Client) Unsubscribe(ctx context.Context, channel string) error {
	c.mu.Lock()
	s := c.subs[channel]
	delete(c.subs, channel)
	cn := c.conn
	c.mu.Unlock()
	if s == nil || !s.active || cn == nil {
		return nil
	}
	if _, err := cn.call(ctx, protocol.Command{Op: protocol.OpUnsubscribe, Channel: channel}, nil); err != nil {
		return fmt.Errorf("unsubscribe %s: %w", channel, err)
	}
	return nil
}

// Position returns the offset and epoch of the last publication delivered
// on channel (or of the channel when it was last subscribed); ok is false
// when none is known.
func (c *Client) Position(channel string) (pos Position, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.subs[channel]; s != nil && s.hasPos {
		return s.pos, true
	}
	return Position{}, false
}

// subscribeCall builds the subscribe command for s, recovering when its
// position is known. c.mu must be held.
func (c *Client) subscribeCall(cn *conn, channel string, s *subState, resub bool) (protocol.Command, *call) {
	cmd := protocol.Command{Op: protocol.OpSubscribe, Channel: channel, Data: s.data}
	recovering := s.hasPos
	if recovering {
		cmd.Recover, cmd.Offset, cmd.Epoch = true, s.pos.Offset, s.pos.Epoch
	}
	return cmd, newCall(func(r *reply) error {
		return c.onSubscribeReply(cn, &subscribeDone{channel: channel, state: s, recovering: recovering}, resub, r)
	})
}

// onSubscribeReply runs on the reader when a subscribe is answered. Success
// queues the subscribed event. A refused resubscription is retried on the
// same connection when the cause is transient; otherwise the channel becomes
// inactive, and for a resubscription the user hears of it as an unsub.
func (c *Client) onSubscribeReply(cn *conn, d *subscribeDone, resub bool, r *reply) error {
	err := decodeSubscribe(r, &d.result)
	retry := 0
	c.mu.Lock()
	current := c.subs[d.channel] == d.state
	switch {
	case !current:
	case err == nil:
		d.state.retries = 0
	case resub && transient(err):
		d.state.retries++
		retry = d.state.retries
	default:
		d.state.active = false
	}
	c.mu.Unlock()
	switch {
	case !current:
	case err == nil:
		c.events.push(event{kind: evSubscribed, sub: d})
	case retry > 0:
		delay := fullJitter(retry-1, c.opts.BackoffBase, c.opts.BackoffMax, rand.Int64N)
		c.log.Info("resubscribe refused, retrying", "channel", d.channel, "err", err, "delay", delay)
		time.AfterFunc(delay, func() { c.retrySubscribe(cn, d.channel, d.state) })
	case resub:
		c.log.Warn("resubscribe refused", "channel", d.channel, "err", err)
		reason := "resubscribe refused: " + err.Error()
		c.events.push(event{kind: evUnsubscribed, pub: Publication{Channel: d.channel}, reason: reason})
	}
	return err
}

func decodeSubscribe(r *reply, res *protocol.SubscribeResult) error {
	if r.Error != nil {
		return r.Error
	}
	if err := json.Unmarshal(r.Result, res); err != nil {
		return fmt.Errorf("decode result: %w", err)
	}
	return nil
}

// transient reports whether a refusal may go away by itself.
func transient(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.Code == CodeUnavailable || e.Code == CodeRateLimited || e.Code == CodeInternal)
}

// retrySubscribe sends a refused resubscription again, if the channel is
// still wanted and cn still the connection.
func (c *Client) retrySubscribe(cn *conn, channel string, s *subState) {
	c.mu.Lock()
	if c.subs[channel] != s || !s.active || c.conn != cn {
		c.mu.Unlock()
		return
	}
	cmd, cl := c.subscribeCall(cn, channel, s, true)
	c.mu.Unlock()
	if err := cn.send([]protocol.Command{cmd}, []*call{cl}); err != nil {
		c.log.Debug("resubscribe retry", "channel", channel, "err", err)
	}
}

// ReasonInsufficientState is the unsub reason of a subscription that saw a
// gap or a new epoch in the server's stream (Redis trouble, a failover): the
// client resubscribes with recovery from its last position by itself.
const ReasonInsufficientState = protocol.ReasonInsufficientState

// serverUnsubscribed handles an unsub push on the reader. A subscription
// ended for insufficient state is subscribed again with recovery at once,
// and reports false: the user hears of the outcome through OnSubscribed
// and, when the server could not recover, OnRecoveryFailed. Any other
// reason ends the subscription: it reports true, and the reader queues the
// unsubscribed event after the publications before it.
func (c *Client) serverUnsubscribed(cn *conn, channel, reason string) (ended bool) {
	c.mu.Lock()
	s := c.subs[channel]
	if s == nil {
		c.mu.Unlock()
		return true
	}
	if reason != ReasonInsufficientState || c.conn != cn {
		s.active = false
		c.mu.Unlock()
		return true
	}
	cmd, cl := c.subscribeCall(cn, channel, s, true)
	c.mu.Unlock()
	if err := cn.send([]protocol.Command{cmd}, []*call{cl}); err != nil {
		c.log.Debug("resubscribe after insufficient state", "channel", channel, "err", err)
	}
	return false
}
