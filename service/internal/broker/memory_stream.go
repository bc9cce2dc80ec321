package broker

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// stream is one channel's state in a Memory: its position, its history ring
// and its idempotency keys. Its shard's map owns it; mu guards every field
// but the idle-list links, and whoever holds mu (Publish, History, the
// sweeper, an eviction) owns the stream for that time. Publish holds mu while
// the Handler runs, so mu orders delivery.
type stream struct {
	mu sync.Mutex
	// removed is set when the stream is dropped (expired or evicted); a
	// caller that locked a removed stream looks the channel up again, and
	// takes it out of its shard's map if it is still there.
	removed bool
	channel string
	pos     protocol.Position
	// buf holds the latest publications, offsets contiguous and ending at
	// pos.Offset; once it is full, start indexes the oldest and new ones
	// overwrite it.
	buf     []*protocol.Publication
	start   int
	lastPub time.Time // last publication, for HistoryTTL and MetaTTL
	touched time.Time // last read or unsubscribe, for emptyTTL
	keys    idempotency

	// The idle list's links, guarded by idleList.mu: a stream that has had
	// a publication is on it, most recently published first. listed and
	// movedAt change only while mu is held as well.
	prev, next *stream
	listed     bool
	movedAt    time.Time
}

func newStream(channel string, now time.Time) *stream {
	return &stream{channel: channel, pos: protocol.Position{Epoch: newEpoch("")}, touched: now}
}

// newEpoch returns a random epoch different from old, so a channel that
// starts over is never taken for the stream it replaces.
func newEpoch(old string) string {
	var b [8]byte
	for {
		rand.Read(b[:]) // never fails: crypto/rand crashes the program instead
		if e := hex.EncodeToString(b[:]); e != old {
			return e
		}
	}
}

// expired reports whether the stream is due to be dropped at now. A channel
// that had a publication keeps its position for MetaTTL after the last one,
// whatever reads it meanwhile; one that never had any keeps its epoch only
// while subscribed and for emptyTTL after its last read or subscriber, so
// that a client that reconnects quickly still recovers with it.
func (s *stream) expired(now time.Time, o *MemoryOptions, subscribed bool) bool {
	if s.pos.Offset > 0 {
		return now.Sub(s.lastPub) >= o.MetaTTL
	}
	return !subscribed && now.Sub(s.touched) >= emptyTTL(o.MetaTTL)
}

// expireHistory drops the history when the last publication is ttl old.
func (s *stream) expireHistory(now time.Time, ttl time.Duration) {
	if ttl > 0 && len(s.buf) > 0 && now.Sub(s.lastPub) >= ttl {
		s.buf, s.start = nil, 0
	}
}

// append creates the next publication and keeps it in the ring of size
// publications.
func (s *stream) append(channel string, data []byte, o protocol.PublishOptions, now time.Time, size int) *protocol.Publication {
	s.pos.Offset++
	p := &protocol.Publication{
		Channel:     channel,
		Offset:      s.pos.Offset,
		Epoch:       s.pos.Epoch,
		Data:        data,
		User:        o.User,
		Time:        o.Time,
		TraceParent: o.TraceParent,
	}
	s.lastPub = now
	switch {
	case size <= 0:
	case len(s.buf) < size: // not full yet, so start is 0
		s.buf = append(s.buf, p)
	default:
		s.buf[s.start] = p
		s.start = (s.start + 1) % len(s.buf)
	}
	return p
}

// at returns the i-th oldest publication held.
func (s *stream) at(i int) *protocol.Publication {
	return s.buf[(s.start+i)%len(s.buf)]
}

// history answers q from the ring. With q.HasSince it returns what is held
// after q.Since (the caller sees a gap when the first offset is not
// q.Since+1); without, the latest q.Limit.
func (s *stream) history(q protocol.HistoryQuery) protocol.History {
	n := len(s.buf)
	lo, hi := 0, n
	if q.HasSince {
		first := s.pos.Offset - uint64(n) + 1 // offset of the oldest held
		switch {
		case q.Since >= s.pos.Offset:
			lo = n
		case q.Since >= first:
			lo = int(q.Since - first + 1)
		}
		if q.Limit > 0 && hi-lo > q.Limit {
			hi = lo + q.Limit
		}
	} else if q.Limit > 0 && n > q.Limit {
		lo = n - q.Limit
	}
	h := protocol.History{Position: s.pos}
	if q.MaxBytes > 0 {
		hi, h.Truncated = s.withinBudget(lo, hi, q.MaxBytes)
	}
	h.Publications = make([]*protocol.Publication, 0, hi-lo)
	for i := lo; i < hi; i++ {
		h.Publications = append(h.Publications, s.at(i))
	}
	return h
}

// withinBudget returns the end of the longest run from lo whose size fits
// budget (at least one publication), and whether that cut the run short.
func (s *stream) withinBudget(lo, hi, budget int) (int, bool) {
	used := 0
	for i := lo; i < hi; i++ {
		used += protocol.PublicationSize(s.at(i))
		if used > budget && i > lo {
			return i, true
		}
	}
	return hi, false
}
