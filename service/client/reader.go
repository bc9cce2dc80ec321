package client

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/gorilla/websocket"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// The first allocation for a frame is between these sizes.
const (
	minFrameHint = 512
	maxFrameHint = 64 << 10
)

// readLoop is the connection's reader: it reads frames until the connection
// fails or closes, then fails every pending call and closes done.
func (cn *conn) readLoop() {
	defer cn.finish()
	for {
		cn.extend()
		kind, msg, err := cn.readFrame()
		if err != nil {
			cn.readErr = err
			return
		}
		if kind != websocket.TextMessage {
			cn.c.log.Warn("non-text frame ignored", "type", kind)
			continue
		}
		cn.frame(msg)
	}
}

// readFrame reads the next frame into a new buffer, which is never reused,
// so publications may point into it. It is io.ReadAll with a first
// allocation sized after the previous frame: frames under load are alike,
// and growing each one from 512 bytes stood out in receive profiles.
func (cn *conn) readFrame() (kind int, msg []byte, err error) {
	kind, r, err := cn.ws.NextReader()
	if err != nil {
		return 0, nil, err
	}
	msg = make([]byte, 0, cn.sizeHint)
	for {
		if len(msg) == cap(msg) {
			msg = append(msg, 0)[:len(msg)]
		}
		n, err := r.Read(msg[len(msg):cap(msg)])
		msg = msg[:len(msg)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, nil, err
		}
	}
	cn.sizeHint = min(max(len(msg)+len(msg)/8, minFrameHint), maxFrameHint)
	return kind, msg, nil
}

func (cn *conn) finish() {
	cn.mu.Lock()
	cn.ended = true
	cn.pending = nil
	cn.mu.Unlock()
	close(cn.done)
}

// frame handles the lines of one frame. Pushes are queued together at the
// end; a reply first flushes the pushes before it, so the events its hook
// queues keep stream order.
func (cn *conn) frame(msg []byte) {
	for len(msg) > 0 {
		var line []byte
		line, msg = cut(msg)
		if len(line) == 0 {
			continue
		}
		if p, ok := decodePub(line); ok {
			cn.batch = append(cn.batch, event{kind: evPub, pub: cn.publication(p)})
			continue
		}
		cn.line(line)
	}
	cn.flush()
}

func (cn *conn) flush() {
	if len(cn.batch) == 0 {
		return
	}
	cn.c.events.push(cn.batch...)
	clear(cn.batch)
	cn.batch = cn.batch[:0]
}

// publication builds a Publication from the fast path's slices. Data is cut
// to its own length and capacity, so appending to it cannot overwrite the
// rest of the frame.
func (cn *conn) publication(p rawPub) Publication {
	pub := Publication{
		Channel: cn.intern.get(p.channel),
		Offset:  p.offset,
		Epoch:   cn.intern.get(p.epoch),
		Data:    json.RawMessage(p.data[:len(p.data):len(p.data)]),
	}
	if len(p.user) > 0 {
		pub.User = cn.intern.get(p.user)
	}
	return pub
}

// line handles any line the fast path declined, with encoding/json.
func (cn *conn) line(line []byte) {
	if cn.replyLine(line) {
		return
	}
	var in protocol.Message
	if err := json.Unmarshal(line, &in); err != nil {
		cn.c.log.Warn("undecodable line from server", "err", err)
		return
	}
	switch {
	case in.ID != 0:
		cn.flush()
		cn.deliver(in.ID, reply{Result: in.Result, Error: (*Error)(in.Error)})
	case in.Push == protocol.PushPub:
		pub := Publication{Channel: in.Channel, Offset: in.Offset, Epoch: in.Epoch, Data: in.Data, User: in.User}
		cn.batch = append(cn.batch, event{kind: evPub, pub: pub})
	case in.Push == protocol.PushUnsub:
		if cn.c.serverUnsubscribed(cn, in.Channel, in.Reason) {
			cn.batch = append(cn.batch, event{kind: evUnsubscribed, pub: Publication{Channel: in.Channel}, reason: in.Reason})
		}
	case cn.joinLeave(&in): // queued for OnJoin or OnLeave
	case in.Error != nil:
		// The server could not read a command's id: a client bug.
		cn.c.log.Warn("error reply without id", "err", in.Error)
	default:
		cn.c.log.Debug("unknown line from server ignored", "push", in.Push)
	}
}

// deliver hands a reply to its call, running the call's hook first.
func (cn *conn) deliver(id uint64, r reply) {
	cn.mu.Lock()
	cl := cn.pending[id]
	delete(cn.pending, id)
	cn.mu.Unlock()
	if cl == nil {
		cn.c.log.Debug("reply to an unknown command", "id", id)
		return
	}
	res := callResult{reply: r}
	if cl.hook != nil {
		res.err = cl.hook(&r)
	}
	cl.done <- res
}

// cut splits off the first line of a frame.
func cut(frame []byte) (line, rest []byte) {
	if i := bytes.IndexByte(frame, '\n'); i >= 0 {
		return frame[:i], frame[i+1:]
	}
	return frame, nil
}
