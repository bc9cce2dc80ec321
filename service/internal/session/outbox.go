package session

import (
	"sync"
	"unsafe"

	"github.com/wsgateway/wsgateway/service/internal/hub"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// item is one thing waiting to be written: a line this session owns (a reply
// or an unsub push), a publication shared with other sessions, or a ping.
type item struct {
	kind itemKind
	line []byte        // kindReply, kindUnsub
	d    *hub.Delivery // kindPub
}

// itemOverhead is what an item costs a queue beyond its line: the item
// itself and its share of the slice. It keeps a flood of empty lines (ping
// replies) bounded by the byte budget too.
const itemOverhead = int(unsafe.Sizeof(item{}))

// size is what it counts against the queue's byte budget. A shared
// publication counts its full line in every queue it sits in: each of them
// keeps it alive.
func (it item) size() int {
	if it.kind == kindPub {
		return len(it.d.Line) + itemOverhead
	}
	return len(it.line) + itemOverhead
}

type itemKind uint8

const (
	kindReply itemKind = iota
	kindUnsub
	kindPub
	kindPing
)

// outbox is a session's bounded send queue. Anyone may put into it without
// blocking; exactly one writer goroutine drains it, started on demand when
// the first item arrives and gone again when the queue is empty, so an idle
// connection parks no writer goroutine and holds no write buffer.
//
// Two bounds hold at once: limitBytes on the bytes queued plus the bytes of
// the batch being written (so the connection's whole backlog is bounded,
// not just its waiting part), and limit on the number of pushes waiting.
// Replies count only in bytes: a client's burst of commands in one frame
// gets its replies (rate_limited ones included) rather than a 4008.
type outbox struct {
	mu         sync.Mutex
	items      []item
	spare      []item // the writer's previous batch, reused to avoid reallocating
	limit      int    // pushes (pubs, unsubs, pings) waiting
	limitBytes int    // bytes waiting plus in flight
	pushes     int    // pushes in items
	queued     int    // bytes in items
	inflight   int    // bytes of the batch being written
	batches    uint64 // batches handed to the writer, for the stall watch
	writing    bool

	// closing stops new items; the writer then sends reason's close frame
	// once (closeSent) and closes done.
	closing   bool
	closeSent bool
	reason    protocol.Disconnect
	done      chan struct{}
}

func (o *outbox) init(limit, limitBytes int) {
	o.limit, o.limitBytes = limit, limitBytes
	o.done = make(chan struct{})
}

// putResult says what became of an item given to put.
type putResult uint8

const (
	queued     putResult = iota
	refused              // the session is closing
	overflowed           // this item overflowed the queue: the session now closes 4008
)

// put queues it and reports whether a writer must be started. It refuses
// items once the session is closing, and turns an overflow into a
// slow-consumer close: the queued items are dropped (dropped counts them).
func (o *outbox) put(it item) (startWriter bool, res putResult, dropped int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closing {
		return false, refused, 1
	}
	size, push := it.size(), it.kind != kindReply
	if o.over(size, push) {
		dropped = len(o.items) + 1
		return o.overflowLocked(), overflowed, dropped
	}
	o.items = append(o.items, it)
	o.queued += size
	if push {
		o.pushes++
	}
	return o.wake(), queued, 0
}

// over reports whether an item of size would break a bound. An item alone
// in an empty queue is always taken, so that one publication larger than
// the budget (a misconfiguration) cannot evict every subscriber. Callers
// hold mu.
func (o *outbox) over(size int, push bool) bool {
	if push && o.pushes >= o.limit {
		return true
	}
	backlog := o.queued + o.inflight
	return backlog > 0 && backlog+size > o.limitBytes
}

// dropQueued forgets what waits (not the batch in flight). Callers hold mu.
func (o *outbox) dropQueued() {
	clear(o.items)
	o.items = o.items[:0]
	o.queued, o.pushes = 0, 0
}

// overflow closes the session as a slow consumer, dropping what waits. It
// reports whether a writer must be started, and false for both when the
// session was already closing.
func (o *outbox) overflow() (startWriter, started bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closing {
		return false, false
	}
	return o.overflowLocked(), true
}

func (o *outbox) overflowLocked() bool {
	o.dropQueued()
	o.closing, o.reason = true, protocol.CloseSlowConsumer
	return o.wake()
}

// wake marks the writer running and reports whether it must be started.
// Callers hold mu.
func (o *outbox) wake() bool {
	if o.writing {
		return false
	}
	o.writing = true
	return true
}

// close starts a server-side close with reason. Items already queued are
// still written first. It reports whether a writer must be started and
// whether this call started the close (false when already closing).
func (o *outbox) close(reason protocol.Disconnect) (startWriter, started bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closing {
		return false, false
	}
	o.closing, o.reason = true, reason
	return o.wake(), true
}

// peerClosed records that the close handshake was started by the peer (or
// done by the library): no close frame of ours must follow. It reports
// whether the session was not already closing.
func (o *outbox) peerClosed(reason protocol.Disconnect) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	first := !o.closing
	if first {
		o.closing, o.reason = true, reason
	}
	if !o.closeSent {
		o.closeSent = true
		o.dropQueued()
		if !o.writing {
			o.signalDone()
		}
	}
	return first
}

// next hands the writer its next batch, recycling the previous one. With
// nothing left it returns the close reason when a close frame is due
// (sendClose), or stops the writer.
func (o *outbox) next(prev []item) (batch []item, sendClose bool, reason protocol.Disconnect) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if cap(prev) <= 256 { // a burst's huge batch is let go, not kept per connection
		clear(prev)
		o.spare = prev[:0]
	}
	o.inflight = 0 // prev is written
	if len(o.items) > 0 && !o.closeSent {
		batch, o.items, o.spare = o.items, o.spare, nil
		o.inflight, o.queued, o.pushes = o.queued, 0, 0
		o.batches++
		return batch, false, o.reason
	}
	if o.closing && !o.closeSent {
		o.closeSent = true
		return nil, true, o.reason
	}
	o.writing = false
	if o.closeSent {
		o.signalDone()
	}
	return nil, false, o.reason
}

// fail drops everything after a write error: the socket is unusable.
func (o *outbox) fail() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closing, o.closeSent, o.writing = true, true, false
	if o.reason.Code == 0 {
		o.reason = protocol.CloseWriteFailed
	}
	o.dropQueued()
	o.inflight = 0
	o.signalDone()
}

func (o *outbox) signalDone() {
	select {
	case <-o.done:
	default:
		close(o.done)
	}
}

// inFlight returns the number of the batch being written and whether one is.
func (o *outbox) inFlight() (batch uint64, busy bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.batches, o.inflight > 0
}

// state returns whether the session is closing and with what reason.
func (o *outbox) state() (closing bool, reason protocol.Disconnect) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.closing, o.reason
}
