package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// subprotocol is the gateway's protocol version, offered at the upgrade.
const subprotocol = "wsgateway.v1"

// maxFrame bounds what the tool reads in one frame: the gateway batches
// pushes, so a frame may hold many publications, but never this much.
const maxFrame = 16 << 20

// dialer opens benchmark connections: the upgrade, then connect (and
// subscribe, when asked) sent together in one frame, then the replies. It is
// shared by the dial workers and read-only after newDialer.
type dialer struct {
	ws      []websocket.Dialer // one per source IP; connection i uses ws[i%len]
	url     string
	connect []byte // the connect command line
}

// opened is one connection after its setup.
type opened struct {
	conn         *websocket.Conn
	setup        time.Duration // dial start to the connect reply
	offset       uint64        // the channel's offset in the subscribe reply
	pingInterval time.Duration
}

// newDialer prepares dialers for sourceIPs source addresses with the given
// per-connection buffer sizes. gorilla keeps the read buffer for the life of
// the connection; writes borrow a buffer from a shared pool only while they
// run, so idle connections hold no write buffer at all.
func newDialer(cfg config, readBuf int) *dialer {
	d := &dialer{url: cfg.url, connect: connectLine(cfg.token)}
	pool := &sync.Pool{}
	for i := range cfg.sourceIPs {
		nd := &net.Dialer{Timeout: cfg.dialTimeout}
		if cfg.sourceIPs > 1 {
			// With one source address the kernel picks it and the port at
			// connect(); binding it would cost the port reuse that allows.
			nd.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(i+1))}
			nd.Control = bindAddressNoPort
		}
		d.ws = append(d.ws, websocket.Dialer{
			NetDialContext:   nd.DialContext,
			HandshakeTimeout: cfg.dialTimeout,
			ReadBufferSize:   readBuf,
			WriteBufferSize:  256,
			WriteBufferPool:  pool,
			Subprotocols:     []string{subprotocol},
		})
	}
	return d
}

// connectLine is the connect command, with the token when there is one.
func connectLine(token string) []byte {
	if token == "" {
		return []byte(`{"id":1,"op":"connect"}`)
	}
	t, _ := json.Marshal(token) // a string always marshals
	return fmt.Appendf(nil, `{"id":1,"op":"connect","token":%s}`, t)
}

// open dials connection i and runs its setup: connect, and subscribe to
// channel unless it is empty. Every step is bounded by timeout.
func (d *dialer) open(ctx context.Context, i int, channel string, timeout time.Duration) (opened, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	conn, resp, err := d.ws[i%len(d.ws)].DialContext(ctx, d.url, nil)
	if err != nil {
		if resp != nil {
			return opened{}, fmt.Errorf("upgrade: HTTP %d: %w", resp.StatusCode, err)
		}
		return opened{}, fmt.Errorf("dial: %w", err)
	}
	o, err := setup(conn, d.connect, channel, start, start.Add(timeout))
	if err != nil {
		conn.Close()
		return opened{}, err
	}
	return o, nil
}

// reply is a command reply, decoded only during setup (off the hot path).
type reply struct {
	ID     uint64 `json:"id"`
	Result struct {
		PingInterval int    `json:"ping_interval"`
		Offset       uint64 `json:"offset"`
	} `json:"result"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// setup sends connect (and subscribe) in one frame and reads until the last
// reply, all before deadline; afterwards the connection has no deadline.
func setup(conn *websocket.Conn, connect []byte, channel string, start, deadline time.Time) (opened, error) {
	o := opened{conn: conn}
	conn.SetReadLimit(maxFrame)
	frame, last := connect, uint64(1)
	if channel != "" {
		ch, _ := json.Marshal(channel) // a string always marshals
		frame = fmt.Appendf(append(append([]byte(nil), connect...), '\n'), `{"id":2,"op":"subscribe","channel":%s}`, ch)
		last = 2
	}
	_ = conn.SetWriteDeadline(deadline)
	_ = conn.SetReadDeadline(deadline)
	if err := conn.WriteMessage(websocket.TextMessage, frame); err != nil {
		return o, fmt.Errorf("send connect: %w", err)
	}
	for got := uint64(0); got < last; {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			return o, fmt.Errorf("await reply %d: %w", got+1, err)
		}
		for line := range bytes.Lines(msg) {
			var r reply
			if err := json.Unmarshal(line, &r); err != nil || r.ID == 0 {
				// A push. The subscribe reply comes before the channel's
				// publications, and fanout publishes only after its ramp,
				// so none is lost here.
				continue
			}
			if r.Error != nil {
				return o, fmt.Errorf("reply %d: %s: %s", r.ID, r.Error.Code, r.Error.Message)
			}
			switch got = r.ID; got {
			case 1:
				o.setup = time.Since(start)
				o.pingInterval = time.Duration(r.Result.PingInterval) * time.Second
			case 2:
				o.offset = r.Result.Offset
			}
		}
	}
	_ = conn.SetReadDeadline(time.Time{})
	_ = conn.SetWriteDeadline(time.Time{})
	return o, nil
}
