package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// maxFrame caps the frames the client batches commands into, well under the
// server's default --max-message-bytes (64 KiB, larger closes with 1009).
const maxFrame = 32 << 10

const (
	// idleSlack is added to two ping intervals before a silent connection
	// is considered dead. It must stay well above extendEvery.
	idleSlack = 5 * time.Second
	// extendEvery is how often, at most, the reader pushes its deadline.
	extendEvery = time.Second
)

// conn is one WebSocket connection and the calls waiting on it.
//
// Ownership: readLoop is the only reader of ws; it owns idle, extended,
// sizeHint, intern and batch, and runs the reply hooks. Writes and nextID
// are under wmu (the ping handler and the close use ws.WriteControl, which
// gorilla allows alongside). mu guards pending and ended. done is closed
// when the reader has exited; from then on readErr is fixed and no call can
// be registered.
type conn struct {
	c  *Client
	ws *websocket.Conn

	wmu    sync.Mutex
	nextID uint64

	mu      sync.Mutex
	pending map[uint64]*call
	ended   bool

	idle     time.Duration // longest silence before the connection is dropped
	extended time.Time     // when the read deadline was last pushed
	sizeHint int           // first allocation for the next frame
	intern   interner
	batch    []event

	done    chan struct{}
	readErr error
}

// call is one command waiting for its reply.
type call struct {
	// hook, if set, runs on the reader goroutine when the reply arrives, in
	// stream order with the pushes around it; its error replaces the reply's.
	hook func(*reply) error
	done chan callResult // capacity 1: the reader never blocks on it
}

// reply is the answer to one command: exactly one of Result and Error is set.
type reply struct {
	Result json.RawMessage
	Error  *Error
}

type callResult struct {
	reply reply
	err   error
}

func newCall(hook func(*reply) error) *call {
	return &call{hook: hook, done: make(chan callResult, 1)}
}

func newConn(c *Client, ws *websocket.Conn) *conn {
	cn := &conn{
		c:        c,
		ws:       ws,
		pending:  make(map[uint64]*call),
		idle:     handshakeTimeout,
		sizeHint: minFrameHint,
		intern:   make(interner),
		done:     make(chan struct{}),
	}
	ws.SetPingHandler(cn.onPing)
	return cn
}

// call sends cmd and waits for its reply. It fails with the reply's *Error,
// the hook's error, ctx's error, or ErrNotConnected (wrapping the cause) when
// the connection ends first. A call left on ctx still gets its hook run.
func (cn *conn) call(ctx context.Context, cmd protocol.Command, cl *call) (json.RawMessage, error) {
	if cl == nil {
		cl = newCall(nil)
	}
	if err := cn.send([]protocol.Command{cmd}, []*call{cl}); err != nil {
		return nil, err
	}
	select {
	case r := <-cl.done:
		return r.result()
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-cn.done:
		select {
		case r := <-cl.done:
			return r.result()
		default:
			return nil, cn.lost()
		}
	}
}

func (r callResult) result() (json.RawMessage, error) {
	switch {
	case r.err != nil:
		return nil, r.err
	case r.reply.Error != nil:
		return nil, r.reply.Error
	}
	return r.reply.Result, nil
}

// send registers calls[i] as waiting for cmds[i] and writes the commands.
func (cn *conn) send(cmds []protocol.Command, calls []*call) error {
	cn.wmu.Lock()
	defer cn.wmu.Unlock()
	return cn.sendLocked(cmds, calls)
}

// sendLocked is send for a caller holding wmu. Commands go out batched in
// frames of up to maxFrame bytes, one JSON object per line.
func (cn *conn) sendLocked(cmds []protocol.Command, calls []*call) error {
	lines := make([][]byte, len(cmds))
	for i := range cmds {
		cn.nextID++
		cmds[i].ID = cn.nextID
		b, err := json.Marshal(&cmds[i])
		if err != nil {
			return err
		}
		lines[i] = b
	}
	cn.mu.Lock()
	if cn.ended {
		cn.mu.Unlock()
		return cn.lost()
	}
	for i, cl := range calls {
		cn.pending[cmds[i].ID] = cl
	}
	cn.mu.Unlock()
	for len(lines) > 0 {
		var frame []byte
		frame, lines = nextFrame(lines)
		if err := cn.writeLocked(frame); err != nil {
			_ = cn.ws.Close() // the reader ends, failing every pending call
			return fmt.Errorf("%w: %w", ErrNotConnected, err)
		}
	}
	return nil
}

// nextFrame joins lines into one frame of at most maxFrame bytes (or one
// line, if longer) and returns the lines left.
func nextFrame(lines [][]byte) (frame []byte, rest [][]byte) {
	frame = lines[0]
	n := 1
	for ; n < len(lines) && len(frame)+1+len(lines[n]) <= maxFrame; n++ {
		frame = append(append(frame, '\n'), lines[n]...)
	}
	return frame, lines[n:]
}

func (cn *conn) writeLocked(b []byte) error {
	if err := cn.ws.SetWriteDeadline(time.Now().Add(writeWait)); err != nil {
		return err
	}
	return cn.ws.WriteMessage(websocket.TextMessage, b)
}

// lost is the error of a call whose connection ended.
func (cn *conn) lost() error {
	return fmt.Errorf("%w: %w", ErrNotConnected, cn.readErr)
}

// closeNormal closes with 1000 and waits briefly for the server's answer.
func (cn *conn) closeNormal() {
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	_ = cn.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(closeWait))
	cn.shutdown(closeWait)
}

// shutdown waits up to wait for the reader to end by itself, then closes
// the socket and waits for the reader.
func (cn *conn) shutdown(wait time.Duration) {
	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-cn.done:
		case <-t.C:
		}
		t.Stop()
	}
	_ = cn.ws.Close()
	<-cn.done
}

// setIdle sets how long the reader waits for traffic: two of the server's
// ping intervals and some slack; 0 (no pings) waits forever. Reader only.
func (cn *conn) setIdle(pingSeconds int) {
	cn.idle = 0
	if pingSeconds > 0 {
		cn.idle = 2*time.Duration(pingSeconds)*time.Second + idleSlack
	}
	cn.extended = time.Time{}
	if cn.idle == 0 {
		_ = cn.ws.SetReadDeadline(time.Time{})
	}
	cn.extend()
}

// extend pushes the read deadline idle into the future. It does so at most
// once per extendEvery: at 100k frames a second, timer updates would cost
// more than the reading, and the deadline only needs to be roughly right.
// Reader only.
func (cn *conn) extend() {
	if cn.idle <= 0 {
		return
	}
	now := time.Now()
	if now.Sub(cn.extended) < extendEvery {
		return
	}
	cn.extended = now
	_ = cn.ws.SetReadDeadline(now.Add(cn.idle))
}

// onPing extends the read deadline and answers with a pong, ignoring the
// failures gorilla's default handler ignores.
func (cn *conn) onPing(data string) error {
	cn.extend()
	err := cn.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeWait))
	var ne net.Error
	if err == nil || errors.Is(err, websocket.ErrCloseSent) || (errors.As(err, &ne) && ne.Timeout()) {
		return nil
	}
	return err
}

// closeStatus is the close code and reason behind a read error: the
// server's close frame, or CloseAbnormal when none came.
func closeStatus(err error) (code int, reason string) {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code, ce.Text
	}
	return CloseAbnormal, ""
}

// interner returns one string per distinct byte sequence, so the hot path
// does not allocate a channel, epoch or user string per publication. It is
// owned by one reader; it is reset when it grows past maxInterned.
type interner map[string]string

const maxInterned = 4096

func (m interner) get(b []byte) string {
	if s, ok := m[string(b)]; ok {
		return s
	}
	if len(m) >= maxInterned {
		clear(m)
	}
	s := string(b)
	m[s] = s
	return s
}
