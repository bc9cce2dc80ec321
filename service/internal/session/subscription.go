package session

import (
	"sync"

	"github.com/wsgateway/wsgateway/service/internal/hub"
	"github.com/wsgateway/wsgateway/service/protocol"
)

type subState uint8

const (
	// stateJoining: registered in the hub, reply not sent yet; publications
	// are held back so none can overtake the subscribe reply.
	stateJoining subState = iota
	// stateLive: publications go straight to the outbox, in offset order.
	stateLive
	// stateGone: the subscription ended (gap, overflow); deliveries are
	// ignored until the session removes it.
	stateGone
)

// UnsubInsufficientState is the unsub reason sent when a subscription saw a
// gap or an epoch change it cannot fill: the client should subscribe again
// with recover from its last offset.
const UnsubInsufficientState = "insufficient_state"

// subscription is one session's subscription to one channel. The hub calls
// Deliver from the broker's delivery goroutine while the session's reader
// goroutine activates and ends it; mu orders the two.
type subscription struct {
	s       *Session
	channel string
	// joined: the broker Subscribe succeeded and needs its Unsubscribe.
	// Owned by the reader goroutine.
	joined bool

	mu      sync.Mutex
	state   subState
	offset  uint64 // last offset sent to the client (or covered by the reply)
	epoch   string
	pending []*hub.Delivery // held back while joining
	// pendingBytes is what pending counts against --send-queue-bytes: a
	// subscription joining slowly must not hold more than the queue could.
	pendingBytes int
}

// Deliver implements hub.Subscriber. It never blocks: it only appends to the
// session's bounded outbox (or to the joining buffer).
func (sub *subscription) Deliver(d *hub.Delivery) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	switch sub.state {
	case stateJoining:
		size := len(d.Line) + itemOverhead
		if len(sub.pending) >= sub.s.mgr.cfg.SendQueue || sub.pendingBytes+size > sub.s.mgr.cfg.SendQueueBytes {
			sub.state = stateGone
			sub.pending, sub.pendingBytes = nil, 0
			sub.s.evictSlow()
			return
		}
		sub.pending = append(sub.pending, d)
		sub.pendingBytes += size
	case stateLive:
		sub.forward(d)
	}
}

// forward sends d when it is the next offset, skips what the client already
// has, and ends the subscription with an unsub push on a gap or a new epoch,
// so a client is never silently missing a publication. Callers hold mu.
func (sub *subscription) forward(d *hub.Delivery) {
	p := d.Pub
	switch {
	case p.Epoch == sub.epoch && p.Offset <= sub.offset:
		return // already sent, or covered by the subscribe reply
	case p.Epoch != sub.epoch || p.Offset != sub.offset+1:
		sub.state = stateGone
		sub.s.sendUnsub(sub.channel, UnsubInsufficientState)
		return
	}
	sub.offset = p.Offset
	sub.s.sendDelivery(d)
}

// activate sends the subscribe reply and then whatever arrived while the
// subscription was joining, under mu so no live publication can slip between
// them. pos is the stream position the reply reports.
func (sub *subscription) activate(reply []byte, pos protocol.Position) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.state == stateGone {
		return
	}
	sub.s.sendReply(reply)
	sub.state, sub.offset, sub.epoch = stateLive, pos.Offset, pos.Epoch
	pending := sub.pending
	sub.pending, sub.pendingBytes = nil, 0
	for _, d := range pending {
		if sub.state != stateLive {
			return
		}
		sub.forward(d)
	}
}

// end stops deliveries; the caller removes it from the hub.
func (sub *subscription) end() {
	sub.mu.Lock()
	sub.state = stateGone
	sub.pending, sub.pendingBytes = nil, 0
	sub.mu.Unlock()
}

// gone reports whether the subscription ended by itself (gap, overflow).
func (sub *subscription) gone() bool {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return sub.state == stateGone
}
