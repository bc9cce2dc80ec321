package session

import (
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/time/rate"

	"github.com/wsgateway/wsgateway/service/internal/auth"
	"github.com/wsgateway/wsgateway/service/internal/hub"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// ConnInfo is what the HTTP layer learned at the upgrade.
type ConnInfo struct {
	// Remote is the client's IP address (after trusted proxies).
	Remote string
	// Token is the bearer token from the upgrade's Authorization header.
	Token string
	// Trace holds the upgrade request's remote span context (W3C
	// traceparent) when tracing is on; nil otherwise.
	Trace context.Context
	// Headers are the upgrade request's headers the connect hook forwards
	// (Manager.ForwardedHeaders); nil without one.
	Headers map[string]string
}

// Session is one WebSocket connection. Its reader goroutine (the one running
// Serve) owns the fields below marked "reader", except while the executor
// runs commands (see executor): then the executor goroutine owns the
// command state (claims, meta, subs, the timers) and the reader keeps only
// the framing (limiter, malformed). The outbox has its own lock and its
// single writer goroutine; subscriptions are shared with the hub.
type Session struct {
	id   string
	mgr  *Manager
	m    *metrics
	conn *websocket.Conn
	info ConnInfo
	out  outbox
	// compress is set when permessage-deflate was negotiated and enabled.
	compress bool
	// connected is set once connect succeeded; atomic because the reader
	// reads it while the executor may be running the connect. It sits in
	// compress's padding: an idle connection's size must not grow.
	connected atomic.Bool

	// reader
	claims       *auth.Claims
	subs         map[string]*subscription
	limiter      *rate.Limiter
	limitedSince time.Time // start of the current run of rate limiting
	lastLimited  time.Time // last command refused by the rate limit
	malformed    int       // malformed frames in a row

	// stallBatch and stallScans belong to the manager's stall watch: the
	// batch it last saw in flight and for how many scans in a row.
	stallBatch uint64
	stallScans int

	// exec runs the commands from the first one that needs a hook on; nil
	// until then (and forever without hooks). Set by the reader only.
	exec atomic.Pointer[executor]

	expiresAt   atomic.Int64 // token expiry, Unix nanoseconds; 0: none
	expiryTimer *time.Timer
	pingTimer   atomic.Pointer[time.Timer]

	// connectSpan covers the upgrade and authentication; reader-owned, nil
	// once ended or when tracing is off.
	connectSpan trace.Span
}

// Serve runs the connection until it closes. It is called on the upgrade's
// goroutine, which becomes the reader; it returns after the socket is closed
// and the session has left the hub and the broker's presence.
func (m *Manager) Serve(conn *websocket.Conn, info ConnInfo) {
	s := &Session{id: newID(), mgr: m, m: m.m, conn: conn, info: info}
	s.out.init(m.cfg.SendQueue, m.cfg.SendQueueBytes)
	if m.cfg.CommandRate > 0 {
		s.limiter = rate.NewLimiter(rate.Limit(m.cfg.CommandRate), int(2*m.cfg.CommandRate))
	}
	if m.cfg.Compression {
		conn.EnableWriteCompression(true) // a no-op unless the client negotiated it
		s.compress = true
	}
	conn.SetCloseHandler(s.onPeerClose)
	conn.SetPongHandler(func(string) error { return s.extendReadDeadline() })
	_ = conn.SetReadDeadline(time.Now().Add(m.cfg.ConnectTimeout))
	s.startConnectSpan()
	m.track(s, true)
	s.readLoop()
	s.teardown()
	m.track(s, false)
}

func (s *Session) readLoop() {
	for {
		mt, r, err := s.conn.NextReader()
		if err != nil {
			s.readFailed(err)
			return
		}
		if closing, _ := s.out.state(); closing {
			// Waiting for the peer's close frame: NextReader skips this
			// message's frames unread, so a compressed one is not inflated.
			continue
		}
		if mt != websocket.TextMessage {
			s.Close(protocol.CloseUnsupported)
			continue
		}
		if !s.readMessage(r) {
			return
		}
	}
}

// readMessage reads one message (inflating it when compressed) and handles
// it. The limit applies to the message as inflated, while it is read: a
// deflate bomb never costs more than --max-message-bytes + 1 of buffer.
// It reports false when the connection is unusable.
func (s *Session) readMessage(r io.Reader) bool {
	bp := s.mgr.getBuf()
	defer s.mgr.putBuf(bp)
	var tooBig bool
	var err error
	*bp, tooBig, err = readLimited((*bp)[:0], r, s.mgr.cfg.MaxMessageBytes)
	switch {
	case tooBig:
		s.Close(protocol.CloseTooBig)
	case badDeflate(err):
		s.Close(protocol.CloseBadDeflate)
	case err != nil:
		s.readFailed(err)
		return false
	default:
		s.handleFrame(*bp)
	}
	return true
}

func (s *Session) handleFrame(frame []byte) {
	if !utf8.Valid(frame) {
		s.Close(protocol.CloseInvalidUTF8)
		return
	}
	if s.connected.Load() {
		_ = s.extendReadDeadline()
	}
	bad := false
	protocol.Lines(frame, func(line []byte) {
		if closing, _ := s.out.state(); !closing && !s.handleLine(line) {
			bad = true
		}
	})
	if !bad {
		s.malformed = 0
		return
	}
	if s.malformed++; s.malformed >= 3 {
		s.Close(protocol.ClosePolicy)
	}
}

// readFailed decides how the connection ends after the reader's error.
func (s *Session) readFailed(err error) {
	var ce *websocket.CloseError
	var ne net.Error
	switch {
	case errors.Is(err, websocket.ErrReadLimit):
		s.out.peerClosed(protocol.CloseTooBig) // gorilla already sent 1009
	case errors.Is(err, ErrReservedBit):
		s.Close(protocol.CloseProtocolError) // the writer still works
	case isProtocolError(err):
		s.out.peerClosed(protocol.CloseProtocolError) // gorilla already sent 1002
	case errors.As(err, &ce):
		// A close frame went through onPeerClose, which recorded it, and
		// this changes nothing. But gorilla also reports a connection lost
		// without a close frame as a CloseError 1006, which nobody recorded:
		// without this, teardown would wait closeWait+closeGrace for a writer
		// that never runs, holding the --max-connections slot meanwhile.
		s.out.peerClosed(protocol.Disconnect{Code: ce.Code, Reason: ce.Text})
	case errors.As(err, &ne) && ne.Timeout():
		if closing, _ := s.out.state(); closing {
			return
		}
		if e := s.exec.Load(); e != nil && e.busy() {
			// The executor owns the connect state; the connect's deadline
			// was lifted when it took the command (connectDeadline).
			s.Close(protocol.CloseStale)
		} else if !s.connected.Load() {
			s.m.Connects.WithLabelValues(ConnectTimeout).Inc()
			s.endConnectSpan(ConnectTimeout)
			s.Close(protocol.CloseConnectTimeout)
		} else {
			s.Close(protocol.CloseStale)
		}
	default:
		s.out.peerClosed(protocol.CloseConnectionLost)
	}
}

// onPeerClose answers a close frame from the peer, unless it answers ours.
func (s *Session) onPeerClose(code int, text string) error {
	if s.out.peerClosed(protocol.Disconnect{Code: code, Reason: text}) {
		msg := websocket.FormatCloseMessage(code, "")
		if code == websocket.CloseNoStatusReceived {
			msg = websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
		}
		_ = s.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	}
	return nil
}

func (s *Session) extendReadDeadline() error {
	return s.conn.SetReadDeadline(time.Now().Add(2 * s.mgr.cfg.PingInterval))
}

// Close starts closing the connection with reason: queued messages are
// written, then the close frame. It never blocks; it implements hub.Conn.
func (s *Session) Close(reason protocol.Disconnect) {
	start, started := s.out.close(reason)
	if !started {
		return
	}
	if e := s.exec.Load(); e != nil {
		e.cancel() // no hook call outlives the connection
	}
	// The reader must not wait for traffic that may never come.
	_ = s.conn.SetReadDeadline(time.Now().Add(writeWait + closeWait + closeGrace))
	if start {
		go s.writeLoop()
	}
}

// evictSlow closes the session as a slow consumer from outside the outbox
// (a subscription's joining buffer overflowed).
func (s *Session) evictSlow() {
	start, started := s.out.overflow()
	if started {
		s.slowConsumer()
	}
	if start {
		go s.writeLoop()
	}
}

// slowConsumer follows an overflow. The write in flight (the peer stopped
// reading) gets closeWait to finish, so a client that resumes reading soon
// still sees its 4008; the reader stops waiting soon after.
func (s *Session) slowConsumer() {
	s.m.slowConsumers.Inc()
	_ = s.conn.NetConn().SetWriteDeadline(time.Now().Add(closeWait))
	_ = s.conn.SetReadDeadline(time.Now().Add(2*closeWait + closeGrace))
}

// sendReply queues a reply line this session owns.
func (s *Session) sendReply(line []byte) { s.send(item{kind: kindReply, line: line}) }

// sendUnsub queues a server-side unsubscribe push.
func (s *Session) sendUnsub(channel, reason string) {
	s.send(item{kind: kindUnsub, line: protocol.AppendUnsub(nil, channel, reason)})
}

// sendDelivery queues a publication shared with other subscribers.
func (s *Session) sendDelivery(d *hub.Delivery) { s.send(item{kind: kindPub, d: d}) }

func (s *Session) send(it item) {
	start, res, dropped := s.out.put(it)
	if dropped > 0 {
		s.m.dropped.Add(float64(dropped))
	}
	if res == overflowed {
		s.slowConsumer()
	}
	if start {
		go s.writeLoop()
	}
}

// teardown runs once on the reader goroutine after the read loop ends.
func (s *Session) teardown() {
	if e := s.exec.Load(); e != nil {
		e.stop() // from here on teardown owns the command state again
	}
	s.endConnectSpan("closed")
	s.stopTimers()
	s.leaveAll()
	s.leaveInbox()
	if s.connected.Load() {
		s.mgr.hub.RemoveConn(s.claims.User, s)
		s.mgr.connected.Add(-1)
	}
	select {
	case <-s.out.done:
	case <-time.After(closeWait + closeGrace):
	}
	_ = s.conn.Close()
	_, reason := s.out.state()
	s.m.disconnected(reason.Code)
	if s.connected.Load() {
		s.reportClosed(reason.Code)
	}
}

func (m *Manager) getBuf() *[]byte {
	if b, ok := m.bufs.Get().(*[]byte); ok {
		return b
	}
	return new([]byte)
}

func (m *Manager) putBuf(b *[]byte) {
	if cap(*b) > 64<<10 {
		return // one huge frame must not pin a huge buffer
	}
	*b = (*b)[:0]
	m.bufs.Put(b)
}
