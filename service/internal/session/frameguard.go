package session

import (
	"errors"
	"net"
)

// ErrReservedBit is the read error of a connection whose client set RSV1 on
// a control frame or on a continuation frame. With permessage-deflate
// negotiated, gorilla/websocket takes RSV1 on any frame as "compressed" and
// lets such frames through, but RFC 7692 allows it only on the first frame
// of a data message. The session answers it with close 1002.
var ErrReservedBit = errors.New("RSV1 set on a control or continuation frame")

// GuardFrames wraps the client's side of a connection (as hijacked from
// net/http, with the bytes net/http had already buffered) so that every
// frame header the client sends is checked for ErrReservedBit before
// gorilla/websocket parses it. It reads the stream as it passes and copies
// nothing: per read it costs a few comparisons per frame header.
func GuardFrames(c net.Conn, buffered []byte) net.Conn {
	return &guardConn{Conn: c, pre: buffered}
}

// guardConn follows the client's frames through the byte stream: a header
// (2 bytes, 0, 2 or 8 of length, 4 of mask key), then the payload, which it
// skips. Only gorilla's reader goroutine reads, so it needs no lock.
type guardConn struct {
	net.Conn
	pre []byte // bytes read before the upgrade completed, served first
	err error  // sticky: once the stream is bad, every read fails

	state   uint8  // what the next byte is
	ext     uint8  // extended length bytes still to read
	mask    uint8  // mask key bytes still to read
	payload uint64 // payload bytes still to skip
}

const (
	gFirst   = iota // first header byte: FIN, RSV, opcode
	gLen            // second header byte: MASK, 7-bit length
	gExt            // extended length bytes
	gMask           // mask key bytes
	gPayload        // payload bytes
)

func (g *guardConn) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	var n int
	var err error
	if len(g.pre) > 0 {
		n = copy(p, g.pre)
		g.pre = g.pre[n:]
	} else {
		n, err = g.Conn.Read(p)
	}
	if bad := g.scan(p[:n]); bad >= 0 {
		g.err = ErrReservedBit
		return bad, g.err // the frames before the bad one are delivered
	}
	return n, err
}

// scan advances over b and returns the index of a bad frame's first byte,
// or -1.
func (g *guardConn) scan(b []byte) int {
	for i := 0; i < len(b); {
		switch g.state {
		case gFirst:
			op := b[i] & 0x0f
			if b[i]&0x40 != 0 && (op == 0 || op >= 8) {
				return i
			}
			g.state = gLen
		case gLen:
			g.startPayload(b[i])
		case gExt:
			g.payload = g.payload<<8 | uint64(b[i])
			if g.ext--; g.ext == 0 {
				g.afterLength()
			}
		case gMask:
			if g.mask--; g.mask == 0 {
				g.afterMask()
			}
		case gPayload:
			skip := min(g.payload, uint64(len(b)-i))
			g.payload -= skip
			i += int(skip)
			if g.payload == 0 {
				g.state = gFirst
			}
			continue
		}
		i++
	}
	return -1
}

// startPayload reads the second header byte.
func (g *guardConn) startPayload(b byte) {
	g.mask = 0
	if b&0x80 != 0 {
		g.mask = 4
	}
	g.payload, g.ext = uint64(b&0x7f), 0
	switch g.payload {
	case 126:
		g.payload, g.ext = 0, 2
	case 127:
		g.payload, g.ext = 0, 8
	}
	if g.ext > 0 {
		g.state = gExt
		return
	}
	g.afterLength()
}

func (g *guardConn) afterLength() {
	if g.mask > 0 {
		g.state = gMask
		return
	}
	g.afterMask()
}

func (g *guardConn) afterMask() {
	g.state = gPayload
	if g.payload == 0 {
		g.state = gFirst
	}
}
