package main

import (
	"bytes"
	"io"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// window is the measurement window, as Unix nanoseconds. The fanout
// coordinator sets it before the first publication; subscribers read it.
type window struct {
	start, end atomic.Int64
}

func (w *window) contains(ns int64) bool {
	return ns >= w.start.Load() && ns < w.end.Load()
}

// The gateway writes every publication push in one shape (fixed key order,
// compact JSON; see service/client/fastpath.go), and the publisher writes
// its data as {"t":<send time, unix ns>,"pad":"..."}, so a push line is
//
//	{"push":"pub","channel":"C","offset":N,"epoch":"E","data":{"t":T,"pad":"..."}}
//
// and two fixed prefixes and two integers are all a subscriber reads of it.
// This is the tool's hot path: 100k lines a second on the same cores as the
// gateway; it does no JSON decoding and no allocation.
var (
	pubPrefix = []byte(`{"push":"pub","channel":"`)
	stampKey  = []byte(`,"data":{"t":`)
)

// subscriber is one fanout connection and what it has seen. Its read loop is
// the only goroutine that touches it until done is closed, except last,
// which the coordinator polls while waiting for the final publication.
type subscriber struct {
	conn   *websocket.Conn
	prefix []byte // pubPrefix + channel + `","offset":`, shared read-only
	win    *window
	buf    []byte // the frame being read, reused

	base       uint64 // offset in the subscribe reply
	lastOffset uint64
	last       atomic.Uint64 // lastOffset, for the coordinator
	received   uint64        // publications, each counted once
	recvInWin  uint64        // publications received inside the window
	lost       uint64        // offsets skipped over
	duplicated uint64        // offsets seen again (or out of order)
	unparsed   uint64        // publication lines not in the expected shape
	latency    histogram     // µs, for publications sent inside the window

	err         error       // why the read loop ended
	stopping    atomic.Bool // set by stopAll before it closes the connection
	stoppedByUs bool        // err came from stopAll's close
	done        chan struct{}
}

func newSubscriber(o opened, prefix []byte, win *window) *subscriber {
	s := &subscriber{conn: o.conn, prefix: prefix, win: win, buf: make([]byte, 4096),
		base: o.offset, lastOffset: o.offset, done: make(chan struct{})}
	s.last.Store(o.offset)
	return s
}

// readLoop reads frames until the connection fails or is closed.
func (s *subscriber) readLoop() {
	defer close(s.done)
	for {
		_, r, err := s.conn.NextReader()
		var n int
		if err == nil {
			n, err = s.readFrame(r)
		}
		if err != nil {
			s.err, s.stoppedByUs = err, s.stopping.Load()
			return
		}
		s.frame(s.buf[:n], time.Now().UnixNano())
	}
}

// frame accounts for the lines of one frame, received at now (read once per
// frame: its lines arrived together).
func (s *subscriber) frame(b []byte, now int64) {
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		s.line(line, now)
	}
}

// readFrame reads the current message into buf, growing it (rarely: to the
// largest batch the gateway sends) when it does not fit.
func (s *subscriber) readFrame(r io.Reader) (int, error) {
	n := 0
	for {
		if n == len(s.buf) {
			s.buf = append(s.buf, make([]byte, len(s.buf))...)
		}
		m, err := r.Read(s.buf[n:])
		n += m
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// line accounts for one line of a frame: a publication, or anything else
// (replies, other pushes), which is ignored.
func (s *subscriber) line(l []byte, now int64) {
	rest, ok := bytes.CutPrefix(l, s.prefix)
	if !ok {
		if bytes.HasPrefix(l, pubPrefix) {
			s.unparsed++ // a publication of another channel, or reshaped
		}
		return
	}
	offset, rest, ok := cutUint(rest)
	var sent uint64
	if ok {
		i := bytes.Index(rest, stampKey)
		if i < 0 {
			ok = false
		} else {
			sent, _, ok = cutUint(rest[i+len(stampKey):])
		}
	}
	if !ok {
		s.unparsed++
		return
	}
	switch {
	case offset <= s.lastOffset:
		s.duplicated++
		return
	case offset > s.lastOffset+1:
		s.lost += offset - s.lastOffset - 1
	}
	s.lastOffset = offset
	s.last.Store(offset)
	s.received++
	if s.win.contains(now) {
		s.recvInWin++
	}
	if s.win.contains(int64(sent)) && now > int64(sent) {
		s.latency.record(uint64(now-int64(sent)) / 1000)
	}
}

// cutUint reads up to 19 decimal digits (no overflow) at the start of b.
func cutUint(b []byte) (n uint64, rest []byte, ok bool) {
	i := 0
	for ; i < len(b) && i < 19 && b[i] >= '0' && b[i] <= '9'; i++ {
		n = n*10 + uint64(b[i]-'0')
	}
	return n, b[i:], i > 0
}

// pushPrefix is what every publication line of channel starts with, up to
// its offset's digits.
func pushPrefix(channel string) []byte {
	p := append([]byte(nil), pubPrefix...)
	p = append(p, channel...)
	return append(p, `","offset":`...)
}
