package client

import (
	"encoding/json"
	"sync"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// Publication is one message on a channel. Data is the publication's JSON
// value; the client never reuses its memory, so it is safe to keep.
type Publication struct {
	Channel string          `json:"channel"`
	Offset  uint64          `json:"offset"`
	Epoch   string          `json:"epoch"`
	Data    json.RawMessage `json:"data"`
	// User is the publisher, empty for publishes made through the API.
	User string `json:"user,omitempty"`
}

// publications converts a result's publications, as the protocol decodes
// them, into the client's.
func publications(ps protocol.Publications) []Publication {
	if ps == nil {
		return nil
	}
	out := make([]Publication, len(ps))
	for i, p := range ps {
		out[i] = Publication{Channel: p.Channel, Offset: p.Offset, Epoch: p.Epoch, Data: p.Data, User: p.User}
	}
	return out
}

// ConnectInfo is the server's answer to connect: this connection's id
// (Client), the token's subject (User), the Node and Zone serving it, and
// the server's ping period in seconds (PingInterval); the client drops a
// connection that stays silent for two of them. Data is what the backend's
// connect hook returned for the client, nil without one.
type ConnectInfo = protocol.ConnectResult

// DisconnectEvent reports the end of one connection attempt. Every attempt
// ends with exactly one, whether or not it reached OnConnected. The last
// event before Done has Reconnect false: the end of the last attempt, or,
// when the client is closed while waiting to reconnect, an extra one with
// Code CloseNormal.
type DisconnectEvent struct {
	// Code is the close code the server sent; CloseAbnormal (1006) when none
	// came (network drop, failed dial, Token error); CloseNormal after Close
	// or when the Start context ends.
	Code   int
	Reason string
	// Reconnect says whether the client will try again.
	Reconnect bool
	// Err is the failure behind the disconnect, if any besides the close
	// frame: a network or dial error, or the connect command's error reply.
	Err error
}

// SubscribedEvent reports that the server accepted a subscribe, sent by
// Subscribe or by the resubscription after a reconnect.
type SubscribedEvent struct {
	Channel string
	// WasRecovering says the subscribe asked for recovery from a known
	// position; Recovered says the server sent every missed publication
	// (they were delivered just before this event).
	Recovered     bool
	WasRecovering bool
	// Offset and Epoch are the channel's position when it was subscribed.
	Offset uint64
	Epoch  string
	// Data is what the backend's subscribe hook returned for this
	// subscribe, nil without one.
	Data json.RawMessage
}

type eventKind uint8

const (
	evPub eventKind = iota + 1
	evConnected
	evDisconnected
	evSubscribed
	evUnsubscribed
	evReply
	evJoin
	evLeave
)

// event is one entry of the queue from the connection goroutines to the
// event goroutine. Publications are held by value: they are most of the
// traffic, and the rarer kinds use a pointer to keep the entry small.
type event struct {
	kind   eventKind
	pub    Publication // evPub; evUnsubscribed uses pub.Channel
	reason string      // evUnsubscribed
	info   *ConnectInfo
	disc   *DisconnectEvent
	sub    *subscribeDone
	reply  *Reply     // evReply
	jl     *JoinLeave // evJoin, evLeave
}

// eventQueue is unbounded on purpose: readers never block on it, so a
// callback may call the client (Subscribe in OnConnected, History in
// OnRecoveryFailed) and wait for a reply that the reader must deliver. The
// price is that a callback slower than the traffic grows memory instead of
// pushing back on the server.
type eventQueue struct {
	mu     sync.Mutex
	items  []event
	closed bool
	wake   chan struct{} // capacity 1: a pending wake-up, never blocks push
}

func newEventQueue() *eventQueue {
	return &eventQueue{wake: make(chan struct{}, 1)}
}

// push appends events in order; it never blocks.
func (q *eventQueue) push(evs ...event) {
	q.mu.Lock()
	q.items = append(q.items, evs...)
	q.mu.Unlock()
	q.signal()
}

// close marks the end of the events: take drains what is left, then stops.
func (q *eventQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

func (q *eventQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// take waits for events and returns all of them, keeping spare (emptied) as
// the next buffer; ok is false once the queue is closed and drained.
func (q *eventQueue) take(spare []event) (evs []event, ok bool) {
	for {
		q.mu.Lock()
		evs, closed := q.items, q.closed
		if len(evs) > 0 {
			q.items = spare[:0]
		}
		q.mu.Unlock()
		if len(evs) > 0 {
			return evs, true
		}
		if closed {
			return nil, false
		}
		<-q.wake
	}
}

// dispatch is the event goroutine: the only caller of the Options callbacks.
// It closes done once the queue is closed and drained, so nothing is called
// back after Done.
func (c *Client) dispatch() {
	defer close(c.done)
	var spare []event
	for {
		evs, ok := c.events.take(spare)
		if !ok {
			return
		}
		for i := range evs {
			c.handle(&evs[i])
			evs[i] = event{} // drop references to delivered data
		}
		spare = evs
	}
}

func (c *Client) handle(ev *event) {
	o := &c.opts
	switch ev.kind {
	case evPub:
		if c.track(&ev.pub) && o.OnPublication != nil {
			o.OnPublication(ev.pub)
		}
	case evConnected:
		if o.OnConnected != nil {
			o.OnConnected(*ev.info)
		}
	case evDisconnected:
		if o.OnDisconnected != nil {
			o.OnDisconnected(*ev.disc)
		}
	case evSubscribed:
		c.finishSubscribe(ev.sub)
	case evUnsubscribed:
		if o.OnUnsubscribed != nil {
			o.OnUnsubscribed(ev.pub.Channel, ev.reason)
		}
	case evReply:
		if o.OnReply != nil {
			o.OnReply(*ev.reply)
		}
	case evJoin:
		if o.OnJoin != nil {
			o.OnJoin(*ev.jl)
		}
	case evLeave:
		if o.OnLeave != nil {
			o.OnLeave(*ev.jl)
		}
	}
}
