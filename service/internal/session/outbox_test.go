package session

import (
	"bytes"
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
