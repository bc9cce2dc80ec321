package session

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/wsgateway/wsgateway/service/internal/hub"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// TestOutboxBounds: the queue overflows on bytes (waiting plus the batch
// being written, a shared publication counted in full) or on the number of
// pushes waiting, never on the number of replies; one item alone is always
// taken.
func TestOutboxBounds(t *testing.T) {
	reply := func(n int) item { return item{kind: kindReply, line: bytes.Repeat([]byte("r"), n)} }
	pub := func(n int) item {
		return item{kind: kindPub, d: hub.NewDelivery(&protocol.Publication{Channel: "c", Data: bytes.Repeat([]byte("p"), n)})}
	}
	for _, tc := range []struct {
		name       string
		limit      int
		limitBytes int
		writeFirst bool // hand the first item to the writer before the rest
		items      []item
		overflowAt int // index of the item that overflows; -1: none
	}{
		{"replies fill the bytes", 4, 1000, false, []item{reply(400), reply(400), reply(400)}, 2},
		{"replies do not count as pushes", 2, 1 << 20, false, []item{reply(1), reply(1), reply(1), reply(1)}, -1},
		{"pushes count", 2, 1 << 20, false, []item{pub(1), reply(1), pub(1), pub(1)}, 3},
		{"a publication counts its whole line", 10, 1000, false, []item{pub(500), pub(500)}, 1},
		{"the batch being written counts", 10, 1000, true, []item{reply(600), reply(300), reply(300)}, 2},
		{"one item alone is always taken", 10, 100, false, []item{reply(5000), reply(1)}, 1},
		{"empty lines are bounded too", 1 << 20, 10 * itemOverhead, false, emptyReplies(11), 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o outbox
			o.init(tc.limit, tc.limitBytes)
			o.writing = true // no writer goroutine: put must not start one
			got := -1
			for i, it := range tc.items {
				if _, res, _ := o.put(it); res == overflowed {
					got = i
					break
				}
				if i == 0 && tc.writeFirst {
					if batch, _, _ := o.next(nil); len(batch) != 1 {
						t.Fatalf("writer took %d items, want 1", len(batch))
					}
				}
			}
			if got != tc.overflowAt {
				t.Fatalf("overflow at item %d, want %d", got, tc.overflowAt)
			}
		})
	}
}

// emptyReplies returns n replies with empty lines.
func emptyReplies(n int) []item {
	items := make([]item, n)
	for i := range items {
		items[i] = item{kind: kindReply}
	}
	return items
}

// TestOutboxStates walks the outbox through its life: each step is one call
// as the session, the hub or the writer makes it, and what it must answer.
// The writer is never started: "start" in an answer means the caller would
// start it now, and the steps then play its part with next.
func TestOutboxStates(t *testing.T) {
	reply := item{kind: kindReply, line: []byte(`{"id":1,"result":{}}`)}
	pub := item{kind: kindPub, d: hub.NewDelivery(&protocol.Publication{Channel: "c", Offset: 1, Data: []byte(`1`)})}
	for _, tc := range []struct {
		name       string
		limit      int
		limitBytes int
		steps      []outboxStep
	}{
		{"the first item starts the writer, which stops when all is written", 8, 1 << 20, []outboxStep{
			put(reply, "queued, start"),
			put(pub, "queued"),
			next("batch of 2"),
			put(reply, "queued"), // the writer still runs: no second one
			next("batch of 1"),
			next("stop"),
			put(reply, "queued, start"),
			state("open"),
		}},
		{"a close writes what is queued, then its close frame once", 8, 1 << 20, []outboxStep{
			put(reply, "queued, start"),
			closeWith(protocol.CloseRestart, "started"),
			put(pub, "refused, 1 dropped"),
			next("batch of 1"),
			next("close frame 1012"),
			state("closing 1012, not done"),
			next("stop, done"),
		}},
		{"a close on an idle session starts the writer for the frame", 8, 1 << 20, []outboxStep{
			closeWith(protocol.CloseTokenExpired, "started, start"),
			next("close frame 4001"),
			next("stop, done"),
		}},
		{"the first close reason stays", 8, 1 << 20, []outboxStep{
			closeWith(protocol.CloseRateLimited, "started, start"),
			closeWith(protocol.CloseRestart, "already closing"),
			overflow("already closing"),
			next("close frame 4029"),
		}},
		{"too many pushes overflow: what waits is dropped, 4008 follows", 2, 1 << 20, []outboxStep{
			put(pub, "queued, start"),
			put(reply, "queued"),
			put(pub, "queued"),
			put(pub, "overflowed, 4 dropped"),
			state("closing 4008, not done"),
			next("close frame 4008"),
			next("stop, done"),
		}},
		{"too many bytes overflow, the batch in flight counted", 8, 3 * (len(reply.line) + itemOverhead), []outboxStep{
			put(reply, "queued, start"),
			put(reply, "queued"),
			next("batch of 2"),
			inFlight("batch 1, busy"),
			put(reply, "queued"),
			put(reply, "overflowed, 2 dropped"),
			next("close frame 4008"),
			inFlight("batch 1, idle"),
		}},
		{"an eviction from outside drops what waits", 8, 1 << 20, []outboxStep{
			put(pub, "queued, start"),
			overflow("started"),
			next("close frame 4008"),
			next("stop, done"),
		}},
		{"a peer's close on an idle session is done at once, without our frame", 8, 1 << 20, []outboxStep{
			peerClosed(protocol.Disconnect{Code: 1000}, "first"),
			state("closing 1000, done"),
			put(reply, "refused, 1 dropped"),
			closeWith(protocol.CloseRestart, "already closing"),
		}},
		{"a peer's close while writing drops what waits; done when the batch ends", 8, 1 << 20, []outboxStep{
			put(reply, "queued, start"),
			put(reply, "queued"),
			next("batch of 2"),
			put(pub, "queued"),
			peerClosed(protocol.Disconnect{Code: 1001}, "first"),
			state("closing 1001, not done"),
			next("stop, done"),
		}},
		{"the peer's answer to our close keeps our reason", 8, 1 << 20, []outboxStep{
			closeWith(protocol.CloseRestart, "started, start"),
			next("close frame 1012"),
			peerClosed(protocol.Disconnect{Code: 1012}, "not first"),
			state("closing 1012, not done"),
			next("stop, done"),
		}},
		{"a write error ends everything as 1006", 8, 1 << 20, []outboxStep{
			put(reply, "queued, start"),
			put(pub, "queued"),
			next("batch of 2"),
			put(pub, "queued"),
			fail(),
			state("closing 1006 write failed, done"),
			inFlight("batch 1, idle"),
			put(reply, "refused, 1 dropped"),
		}},
		{"a write error keeps the close reason already chosen", 8, 1 << 20, []outboxStep{
			put(reply, "queued, start"),
			closeWith(protocol.CloseRestart, "started"),
			next("batch of 1"),
			fail(),
			state("closing 1012, done"),
		}},
		{"inFlight numbers each batch", 8, 1 << 20, []outboxStep{
			inFlight("batch 0, idle"),
			put(reply, "queued, start"),
			next("batch of 1"),
			inFlight("batch 1, busy"),
			put(reply, "queued"),
			next("batch of 1"),
			inFlight("batch 2, busy"),
			next("stop"),
			inFlight("batch 2, idle"),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &outboxRun{}
			r.o.init(tc.limit, tc.limitBytes)
			for i, st := range tc.steps {
				if got := st.do(r); got != st.want {
					t.Fatalf("step %d, %s: got %q, want %q", i+1, st.call, got, st.want)
				}
			}
		})
	}
}

// outboxRun is an outbox with the batch its writer holds.
type outboxRun struct {
	o     outbox
	batch []item
}

// outboxStep is one call and the answer it must give, in words.
type outboxStep struct {
	call string
	do   func(r *outboxRun) string
	want string
}

func put(it item, want string) outboxStep {
	return outboxStep{"put", func(r *outboxRun) string {
		start, res, dropped := r.o.put(it)
		got := [...]string{queued: "queued", refused: "refused", overflowed: "overflowed"}[res]
		return got + withStart(start) + withDropped(dropped)
	}, want}
}

func closeWith(reason protocol.Disconnect, want string) outboxStep {
	return outboxStep{"close", func(r *outboxRun) string { return closeAnswer(r.o.close(reason)) }, want}
}

func overflow(want string) outboxStep {
	return outboxStep{"overflow", func(r *outboxRun) string { return closeAnswer(r.o.overflow()) }, want}
}

func peerClosed(reason protocol.Disconnect, want string) outboxStep {
	return outboxStep{"peerClosed", func(r *outboxRun) string {
		if r.o.peerClosed(reason) {
			return "first"
		}
		return "not first"
	}, want}
}

func next(want string) outboxStep {
	return outboxStep{"next", func(r *outboxRun) string {
		var sendClose bool
		var reason protocol.Disconnect
		r.batch, sendClose, reason = r.o.next(r.batch)
		switch {
		case sendClose:
			return fmt.Sprintf("close frame %d", reason.Code)
		case r.batch == nil: // ", done" when done is closed by now
			select {
			case <-r.o.done:
				return "stop, done"
			default:
				return "stop"
			}
		}
		return fmt.Sprintf("batch of %d", len(r.batch))
	}, want}
}

func fail() outboxStep {
	return outboxStep{"fail", func(r *outboxRun) string { r.o.fail(); return "" }, ""}
}

func inFlight(want string) outboxStep {
	return outboxStep{"inFlight", func(r *outboxRun) string {
		batch, busy := r.o.inFlight()
		if busy {
			return fmt.Sprintf("batch %d, busy", batch)
		}
		return fmt.Sprintf("batch %d, idle", batch)
	}, want}
}

// state reads closing, the reason (its text only when it is not the named
// value's) and whether done is closed.
func state(want string) outboxStep {
	return outboxStep{"state", func(r *outboxRun) string {
		closing, reason := r.o.state()
		if !closing {
			return "open"
		}
		got := fmt.Sprintf("closing %d", reason.Code)
		if reason.Code == 1006 {
			got += " " + reason.Reason
		}
		select {
		case <-r.o.done:
			return got + ", done"
		default:
			return got + ", not done"
		}
	}, want}
}

func closeAnswer(start, started bool) string {
	if !started {
		return "already closing"
	}
	return "started" + withStart(start)
}

func withStart(start bool) string {
	if start {
		return ", start"
	}
	return ""
}

func withDropped(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", %d dropped", n)
}
