package session

import (
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wsgateway/wsgateway/service/internal/hub"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// TestSubscriptionJoin: what a subscription queues, from joining the hub to
// being live. Publications that arrive while joining wait for the subscribe
// reply and follow it in offset order, without what the reply covers; a gap
// or an epoch change ends the subscription with an unsub push, so that the
// client is never silently missing one; a joining buffer larger than the
// send queue closes the session 4008.
func TestSubscriptionJoin(t *testing.T) {
	pub := func(epoch string, offset uint64) *hub.Delivery {
		return hub.NewDelivery(&protocol.Publication{Channel: "c", Epoch: epoch, Offset: offset, Data: []byte(`1`)})
	}
	deliver := func(epoch string, offsets ...uint64) subStep {
		return func(sub *subscription) {
			for _, o := range offsets {
				sub.Deliver(pub(epoch, o))
			}
		}
	}
	size := len(pub("e", 5).Line) + itemOverhead // what one held publication counts
	reply := []byte(`{"id":1,"result":{}}`)
	activate := func(epoch string, offset uint64) subStep {
		return func(sub *subscription) {
			sub.activate(reply, protocol.Position{Epoch: epoch, Offset: offset})
		}
	}
	end := func(sub *subscription) { sub.end() }
	unsub := "push unsub c insufficient_state"
	for _, tc := range []struct {
		name         string
		queue, bytes int // the send queue's bounds
		steps        []subStep
		want         []string // what the outbox holds at the end
		gone         bool
		closed       int // the session's close code; 0: open
	}{
		{"joining: held back until the reply, then in order", 8, 1 << 20,
			[]subStep{deliver("e", 5, 6), activate("e", 4)},
			[]string{"reply", "pub e:5", "pub e:6"}, false, 0},
		{"joining: what the reply covers is dropped", 8, 1 << 20,
			[]subStep{deliver("e", 3, 4, 5), activate("e", 4)},
			[]string{"reply", "pub e:5"}, false, 0},
		{"joining: a gap after the reply's position ends it", 8, 1 << 20,
			[]subStep{deliver("e", 6, 7), activate("e", 4)},
			[]string{"reply", unsub}, true, 0},
		{"joining: a new epoch ends it", 8, 1 << 20,
			[]subStep{deliver("f", 1), activate("e", 4)},
			[]string{"reply", unsub}, true, 0},
		{"live: in order, repeats skipped, a gap ends it and nothing follows", 8, 1 << 20,
			[]subStep{activate("e", 4), deliver("e", 5, 5, 4, 6, 8, 9)},
			[]string{"reply", "pub e:5", "pub e:6", unsub}, true, 0},
		{"live: a new epoch ends it", 8, 1 << 20,
			[]subStep{activate("e", 4), deliver("e", 5), deliver("f", 6)},
			[]string{"reply", "pub e:5", unsub}, true, 0},
		{"ended while joining: the reply is not sent", 8, 1 << 20,
			[]subStep{deliver("e", 5), end, activate("e", 4), deliver("e", 6)},
			nil, true, 0},
		{"the joining buffer over the queue's count: 4008", 2, 1 << 20,
			[]subStep{deliver("e", 5, 6, 7), activate("e", 4)},
			nil, true, 4008},
		{"the joining buffer over the queue's bytes: 4008", 8, 3*size - 1,
			[]subStep{deliver("e", 5, 6, 7), activate("e", 4)},
			nil, true, 4008},
		{"the reply and the held publications fit the queue's bytes", 8, len(reply) + itemOverhead + 3*size,
			[]subStep{deliver("e", 5, 6, 7), activate("e", 4)},
			[]string{"reply", "pub e:5", "pub e:6", "pub e:7"}, false, 0},
		{"the joining buffer at the queue's count is kept", 3, 1 << 20,
			[]subStep{deliver("e", 5, 6, 7), activate("e", 4)},
			[]string{"reply", "pub e:5", "pub e:6", "pub e:7"}, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := joiningSession(t, tc.queue, tc.bytes)
			sub := &subscription{s: s, channel: "c"}
			for _, step := range tc.steps {
				step(sub)
			}
			if diff := cmp.Diff(tc.want, queuedItems(s)); diff != "" {
				t.Errorf("queued (-want +got):\n%s", diff)
			}
			if sub.gone() != tc.gone {
				t.Errorf("gone = %v, want %v", sub.gone(), tc.gone)
			}
			if _, reason := s.out.state(); reason.Code != tc.closed {
				t.Errorf("closed with %d, want %d", reason.Code, tc.closed)
			}
		})
	}
}

type subStep func(sub *subscription)

// TestSubscriptionActivateRacesDeliveries: deliveries from the hub's
// goroutine racing the reader's activate come out behind the reply, each
// offset after the reply's position once and in order, however they
// interleave. Activate starts once held publications wait, so that it
// empties the buffer while deliveries go on.
func TestSubscriptionActivateRacesDeliveries(t *testing.T) {
	const n, held, pos = 2000, 100, 50
	for round := range 20 {
		s := joiningSession(t, 2*n, 1<<30)
		sub := &subscription{s: s, channel: "c"}
		var wg sync.WaitGroup
		wg.Go(func() {
			for o := uint64(1); o <= n; o++ {
				sub.Deliver(hub.NewDelivery(&protocol.Publication{Channel: "c", Epoch: "e", Offset: o}))
			}
		})
		for waiting := 0; waiting < held; runtime.Gosched() {
			sub.mu.Lock()
			waiting = len(sub.pending)
			sub.mu.Unlock()
		}
		sub.activate([]byte(`{}`), protocol.Position{Epoch: "e", Offset: pos})
		wg.Wait()
		want := []string{"reply"}
		for o := pos + 1; o <= n; o++ {
			want = append(want, fmt.Sprintf("pub e:%d", o))
		}
		if diff := cmp.Diff(want, queuedItems(s)); diff != "" {
			t.Fatalf("round %d: queued (-want +got):\n%s", round, diff)
		}
	}
}

// joiningSession returns a session that is not served, with send queue
// bounds queue and bytes and a connection (needed by a 4008) whose writer
// never starts: what is queued stays in its outbox.
func joiningSession(t *testing.T, queue, bytes int) *Session {
	server, client := pipeConns(t, false)
	t.Cleanup(func() { server.Close(); client.Close() })
	m := newTestManager(Config{SendQueue: queue, SendQueueBytes: bytes}, nil)
	s := &Session{id: "test", mgr: m, m: m.m, conn: server}
	s.out.init(queue, bytes)
	s.out.writing = true
	return s
}

// queuedItems names what waits in s's outbox.
func queuedItems(s *Session) []string {
	s.out.mu.Lock()
	defer s.out.mu.Unlock()
	var got []string
	for _, it := range s.out.items {
		switch it.kind {
		case kindReply:
			got = append(got, "reply")
		case kindPub:
			got = append(got, fmt.Sprintf("pub %s:%d", it.d.Pub.Epoch, it.d.Pub.Offset))
		default:
			got = append(got, summarize(it.line))
		}
	}
	return got
}
