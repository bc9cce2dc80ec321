package broker

import (
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// recorder is a Handler that keeps what it receives and checks, per channel,
// that offsets arrive in order with no gap or repeat. Its mutex guards
// everything; notify wakes a waiter after each change.
type recorder struct {
	mu     sync.Mutex
	pubs   map[string][]*protocol.Publication
	users  []string
	errs   []string
	notify chan struct{}
}

// newRecorder returns a recorder that reports order violations when t ends.
func newRecorder(t *testing.T) *recorder {
	r := &recorder{pubs: make(map[string][]*protocol.Publication), notify: make(chan struct{}, 1)}
	t.Cleanup(func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, e := range r.errs {
			t.Error(e)
		}
	})
	return r
}

func (r *recorder) HandlePublication(p *protocol.Publication) {
	// Yielding first widens the window in which a broker that delivered
	// outside its channel lock would let another publisher overtake.
	runtime.Gosched()
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.pubs[p.Channel]
	if n := len(got); n > 0 && p.Epoch == got[n-1].Epoch && p.Offset != got[n-1].Offset+1 {
		r.errs = append(r.errs, fmt.Sprintf("%s: offset %d delivered after %d", p.Channel, p.Offset, got[n-1].Offset))
	}
	r.pubs[p.Channel] = append(got, p)
	r.wake()
}

func (r *recorder) HandleDisconnect(user string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.users = append(r.users, user)
	r.wake()
}

func (r *recorder) wake() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// waitPubs waits until channel has at least n deliveries and returns them.
func (r *recorder) waitPubs(t *testing.T, channel string, n int) []*protocol.Publication {
	t.Helper()
	var got []*protocol.Publication
	r.wait(t, func() bool {
		got = append([]*protocol.Publication(nil), r.pubs[channel]...)
		return len(got) >= n
	})
	return got
}

// waitUsers waits until n disconnects arrived and returns their users.
func (r *recorder) waitUsers(t *testing.T, n int) []string {
	t.Helper()
	var got []string
	r.wait(t, func() bool {
		got = append([]string(nil), r.users...)
		return len(got) >= n
	})
	return got
}

// wait calls done under the mutex after each change until it reports true.
func (r *recorder) wait(t *testing.T, done func() bool) {
	t.Helper()
	timeout := time.After(waitTimeout)
	for {
		r.mu.Lock()
		ok := done()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.notify:
		case <-timeout:
			t.Fatalf("nothing delivered in %v", waitTimeout)
		}
	}
}

func (r *recorder) count(channel string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pubs[channel])
}

// publishData publishes data on channel and fails t on error.
func publishData(t *testing.T, b brokerUnderTest, channel, data string, opts protocol.PublishOptions) protocol.Position {
	t.Helper()
	pos, err := b.Publish(t.Context(), channel, []byte(data), opts)
	if err != nil {
		t.Fatalf("publish %s: %v", channel, err)
	}
	return pos
}

// publish publishes a fixed payload.
func publish(t *testing.T, b brokerUnderTest, channel string, opts protocol.PublishOptions) protocol.Position {
	t.Helper()
	return publishData(t, b, channel, `{"n":0}`, opts)
}

// publishN publishes n publications as wantPub describes them and returns
// the last position.
func publishN(t *testing.T, b brokerUnderTest, channel string, n int) protocol.Position {
	t.Helper()
	var pos protocol.Position
	for i := 1; i <= n; i++ {
		p := wantPub(channel, "", uint64(i))
		pos = publishData(t, b, channel, string(p.Data), protocol.PublishOptions{
			User: p.User, Time: p.Time, TraceParent: p.TraceParent,
		})
	}
	return pos
}

// wantPub is the publication publishN makes at offset i.
func wantPub(channel, epoch string, i uint64) *protocol.Publication {
	s := strconv.FormatUint(i, 10)
	return &protocol.Publication{
		Channel: channel, Offset: i, Epoch: epoch,
		Data: []byte(`{"n":` + s + `}`), User: "user" + s,
		Time: int64(i) * 1000, TraceParent: "tp" + s,
	}
}

// wantPubs is wantPub for offsets from..to.
func wantPubs(channel, epoch string, from, to uint64) []*protocol.Publication {
	pubs := []*protocol.Publication{}
	for i := from; i <= to; i++ {
		pubs = append(pubs, wantPub(channel, epoch, i))
	}
	return pubs
}

// history reads channel's history and fails t on error.
func history(t *testing.T, b brokerUnderTest, channel string, q protocol.HistoryQuery) protocol.History {
	t.Helper()
	h, err := b.History(t.Context(), channel, q)
	if err != nil {
		t.Fatalf("history %s: %v", channel, err)
	}
	return h
}
