package client

import (
	"context"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"sync"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// SendOptions tune one Send.
type SendOptions struct {
	// IdempotencyKey makes a repeat of the same send by the same user on
	// the same topic within 5 minutes return the first message's id
	// instead of queueing it again. Empty: Send generates one per call.
	IdempotencyKey string
}

// SendResult is the server's answer to send: the message's id, and whether
// its idempotency key had been seen already (then nothing new was queued,
// and ID is the first message's).
type SendResult = protocol.SendResult

// Reply is a backend worker's answer to a message this client sent: Data,
// or Err when the worker answered with an error (or the message failed for
// good: code internal, after its attempts ran out).
type Reply struct {
	ID   string
	Data json.RawMessage
	Err  *Error
}

// Send queues data for the backend workers of topic (the server needs
// --redis-url and the token's send claim for topic) and returns once the
// message is durably queued. data is marshalled as for Publish.
//
// Every send carries an idempotency key, opts' or a generated one, and Send
// retries by itself with the same key while the outcome is unknown or the
// gateway cannot serve, exactly as Publish does: a retry of a send that was
// queued answers the first id with Duplicate set. It stops when ctx ends.
// The workers' replies arrive as OnReply callbacks, or use SendAndWait.
func (c *Client) Send(ctx context.Context, topic string, data any, opts SendOptions) (SendResult, error) {
	raw, err := marshalData(data)
	if err != nil {
		return SendResult{}, fmt.Errorf("send %s: %w", topic, err)
	}
	key := opts.IdempotencyKey
	if key == "" {
		key = newPublishKey()
	}
	cmd := protocol.Command{Op: protocol.OpSend, Topic: topic, Data: raw, IdempotencyKey: key}
	for attempt := 0; ; attempt++ {
		var res SendResult
		err := c.do(ctx, cmd, &res)
		if err == nil {
			return res, nil
		}
		if !c.retryable(err) || !sleepCtx(ctx, fullJitter(attempt, c.opts.BackoffBase, c.opts.BackoffMax, mrand.Int64N)) {
			return SendResult{}, err
		}
		c.log.Debug("send retry", "topic", topic, "attempt", attempt+1, "err", err)
	}
}

// SendAndWait is Send followed by waiting for the worker's reply to that
// message, until ctx ends. A reply it takes is not passed to OnReply. A
// reply that came before Send returned the id (a very fast worker) is
// found among the last few unclaimed replies, which OnReply has seen too.
// The reply reaches only the connection that sent the message: after a
// reconnect in between, the server answers the worker 404 and no reply
// comes here (the worker may publish to user:<id> instead).
func (c *Client) SendAndWait(ctx context.Context, topic string, data any, opts SendOptions) (Reply, error) {
	res, err := c.Send(ctx, topic, data, opts)
	if err != nil {
		return Reply{}, err
	}
	ch := c.replies.wait(res.ID)
	defer c.replies.cancel(res.ID, ch)
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		return Reply{}, fmt.Errorf("send %s: waiting for the reply to %s: %w", topic, res.ID, ctx.Err())
	}
}

// recentReplies is how many unclaimed replies the client keeps for a
// SendAndWait that learns its id after the reply came.
const recentReplies = 64

// replyWaiters hands reply pushes to the SendAndWait calls waiting for
// them. Safe for concurrent use; the reader calls arrived.
type replyWaiters struct {
	mu      sync.Mutex
	waiting map[string]chan Reply
	recent  []Reply // unclaimed, oldest first, at most recentReplies
}

// wait registers a waiter for id; a recent unclaimed reply is handed over
// at once.
func (w *replyWaiters) wait(id string) chan Reply {
	ch := make(chan Reply, 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, r := range w.recent {
		if r.ID == id {
			w.recent = append(w.recent[:i], w.recent[i+1:]...)
			ch <- r
			return ch
		}
	}
	if w.waiting == nil {
		w.waiting = map[string]chan Reply{}
	}
	w.waiting[id] = ch
	return ch
}

func (w *replyWaiters) cancel(id string, ch chan Reply) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.waiting[id] == ch {
		delete(w.waiting, id)
	}
}

// arrived gives r to its waiter and reports true, or keeps it among the
// recent ones and reports false (the caller then queues it for OnReply).
func (w *replyWaiters) arrived(r Reply) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ch, ok := w.waiting[r.ID]; ok {
		delete(w.waiting, r.ID)
		ch <- r
		return true
	}
	if len(w.recent) == recentReplies {
		w.recent = append(w.recent[:0], w.recent[1:]...)
	}
	w.recent = append(w.recent, r)
	return false
}

// replyLine handles a line that may be a reply push; it reports false when
// it is not one. A reply's "id" is a string (the message id), so it cannot
// go through protocol.Message.
func (cn *conn) replyLine(line []byte) bool {
	if !strings.HasPrefix(string(line), protocol.ReplyPushPrefix) {
		return false
	}
	var p protocol.ReplyPush
	if err := json.Unmarshal(line, &p); err != nil {
		cn.c.log.Warn("undecodable reply push", "err", err)
		return true
	}
	r := Reply{ID: p.ID, Data: p.Data, Err: (*Error)(p.Error)}
	if !cn.c.replies.arrived(r) {
		cn.batch = append(cn.batch, event{kind: evReply, reply: &r})
	}
	return true
}
