package session

import (
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgateway/wsgateway/service/protocol"
)

const (
	// writeWait bounds one batch write: a peer that does not take it within
	// this long is a slow consumer even if its queue never overflows. It is
	// a watch, not the socket deadline (see stalled).
	writeWait = 10 * time.Second
	// closeWait bounds writing the close frame: at least 3 s
	// (docs/protocol.md#close-codes) so that a slow consumer that resumes
	// reading sees its 4008.
	closeWait = 5 * time.Second
	// closeGrace is how long the reader waits for the peer's close frame
	// after ours before the socket is closed anyway.
	closeGrace = 2 * time.Second
)

// writeLoop is the connection's only writer. It runs while the outbox has
// something to send and exits when it is empty; put starts it again.
func (s *Session) writeLoop() {
	var batch []item
	for {
		var sendClose bool
		var reason protocol.Disconnect
		batch, sendClose, reason = s.out.next(batch)
		switch {
		case sendClose:
			s.writeClose(reason)
			batch = nil
		case batch == nil:
			return
		default:
			if err := s.writeBatch(batch); err != nil {
				s.m.writeErrors.Inc()
				s.out.fail()
				s.conn.Close() // unblocks the reader, which tears the session down
				return
			}
		}
	}
}

// writeBatch writes everything queued as few frames as possible: all lines
// joined by '\n' in one frame. A connection with compression sends each
// publication as its own prepared frame instead, so that the publication is
// compressed once per node rather than once per client.
func (s *Session) writeBatch(batch []item) error {
	if err := s.conn.SetWriteDeadline(time.Now().Add(writeWait + closeWait)); err != nil {
		return err
	}
	var w frameWriter
	var n [kindPing + 1]int
	for _, it := range batch {
		var err error
		switch {
		case it.kind == kindPing:
			if err = w.flush(); err == nil {
				err = s.conn.WriteMessage(websocket.PingMessage, nil)
			}
		case it.kind == kindPub && s.compress:
			if err = w.flush(); err == nil {
				err = s.conn.WritePreparedMessage(it.d.Prepared())
			}
		case it.kind == kindPub:
			err = w.write(s.conn, it.d.Line)
		default:
			err = w.write(s.conn, it.line)
		}
		if err != nil {
			return err
		}
		n[it.kind]++
	}
	if err := w.flush(); err != nil {
		return err
	}
	s.observeSent(batch, n)
	return nil
}

// observeSent records delivery lag for every publication written (publish
// time to socket write, across nodes) and the sent-message counters.
func (s *Session) observeSent(batch []item, n [kindPing + 1]int) {
	if n[kindPub] > 0 {
		now := time.Now().UnixNano()
		for _, it := range batch {
			if it.kind == kindPub && it.d.Pub.Time > 0 {
				s.m.deliveryLag.Observe(float64(now-it.d.Pub.Time) / 1e9)
			}
		}
		s.m.sentPubs.Add(float64(n[kindPub]))
	}
	if n[kindReply] > 0 {
		s.m.sentReplies.Add(float64(n[kindReply]))
	}
	if n[kindUnsub] > 0 {
		s.m.sentUnsubs.Add(float64(n[kindUnsub]))
	}
}

// stalled is called by the manager's stall watch once every stallCheck. It
// reports whether the batch being written is the one the last stallScans
// calls saw too: the peer stopped reading, so it is a slow consumer, closed
// with 4008 and counted as one. The stall fields are the watch's own.
//
// The rule is best effort, because a write deadline cannot be undone: when
// a socket write times out, gorilla/websocket makes the error permanent, and
// the frame may be half written, so nothing valid can follow it on the
// wire. So the deadline is never the first signal. After writeWait the
// watch drops what waits and gives the write in flight closeWait (at least
// 3 s, as docs/protocol.md#close-codes promises) to finish: a client that resumes reading in
// time gets the rest of that batch and then the 4008 close frame. One that
// does not is cut off by the deadline without a close frame; it is still
// counted as 4008.
func (s *Session) stalled() bool {
	batch, busy := s.out.inFlight()
	if !busy || batch != s.stallBatch {
		s.stallBatch, s.stallScans = batch, 0
		return false
	}
	s.stallScans++
	return s.stallScans >= stallScans
}

// writeClose sends the close frame and gives the peer closeGrace to answer;
// the reader sees the answer (or the deadline) and closes the socket.
func (s *Session) writeClose(reason protocol.Disconnect) {
	msg := websocket.FormatCloseMessage(reason.Code, reason.Reason)
	_ = s.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(closeWait))
	_ = s.conn.SetReadDeadline(time.Now().Add(closeGrace))
}

// frameWriter accumulates lines into one text frame, opened on first use.
type frameWriter struct {
	w interface {
		Write([]byte) (int, error)
		Close() error
	}
}

func (f *frameWriter) write(c *websocket.Conn, line []byte) error {
	if f.w == nil {
		w, err := c.NextWriter(websocket.TextMessage)
		if err != nil {
			return err
		}
		f.w = w
	} else if _, err := f.w.Write(newline); err != nil {
		return err
	}
	_, err := f.w.Write(line)
	return err
}

func (f *frameWriter) flush() error {
	if f.w == nil {
		return nil
	}
	err := f.w.Close()
	f.w = nil
	return err
}

var newline = []byte{'\n'}
