package session

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// pipeConns returns the two sides of a WebSocket connection over net.Pipe,
// the server's upgraded by websocket.Upgrader with the server's settings
// (and the frame guard when compression is negotiated). net.Pipe works
// inside a synctest bubble, where real sockets do not, and its deadlines
// follow the bubble's clock. Nothing is buffered: a write waits for the
// other side to read.
func pipeConns(t testing.TB, compress bool) (server, client *websocket.Conn) {
	t.Helper()
	cn, sn := net.Pipe()
	type upgraded struct {
		conn *websocket.Conn
		err  error
	}
	up := make(chan upgraded, 1)
	go func() {
		c, err := upgradePipe(sn, compress)
		up <- upgraded{c, err}
	}()
	d := websocket.Dialer{
		NetDialContext:    func(context.Context, string, string) (net.Conn, error) { return cn, nil },
		Subprotocols:      []string{protocol.Subprotocol},
		EnableCompression: compress,
	}
	client, _, err := d.Dial("ws://gateway.test/ws", nil)
	if err != nil {
		t.Fatalf("dial over net.Pipe: %v", err)
	}
	u := <-up
	if u.err != nil {
		t.Fatalf("upgrade over net.Pipe: %v", u.err)
	}
	return u.conn, client
}

// upgradePipe reads the upgrade request from c and upgrades it.
func upgradePipe(c net.Conn, compress bool) (*websocket.Conn, error) {
	br := bufio.NewReader(c)
	r, err := http.ReadRequest(br)
	if err != nil {
		return nil, err
	}
	conn := c
	if compress {
		// The client sends nothing before the handshake's answer, so the
		// guard sees the stream from the first frame, as in the server.
		conn = GuardFrames(c, nil)
	}
	up := websocket.Upgrader{
		ReadBufferSize:    1024,
		WriteBufferSize:   8192,
		Subprotocols:      []string{protocol.Subprotocol},
		EnableCompression: compress,
	}
	ws, err := up.Upgrade(&pipeResponse{conn: conn, rw: bufio.NewReadWriter(br, bufio.NewWriter(c))}, r, nil)
	if err != nil {
		c.Close() // the dial fails instead of waiting for an answer
	}
	return ws, err
}

// pipeResponse is the http.ResponseWriter of an upgrade over net.Pipe: all
// it must do is hand over the connection.
type pipeResponse struct {
	conn   net.Conn
	rw     *bufio.ReadWriter
	header http.Header
}

func (p *pipeResponse) Header() http.Header {
	if p.header == nil {
		p.header = http.Header{}
	}
	return p.header
}

// Write and WriteHeader serve only a refused upgrade, which fails the test.
func (p *pipeResponse) Write(b []byte) (int, error) { return len(b), nil }
func (p *pipeResponse) WriteHeader(int)             {}

func (p *pipeResponse) Hijack() (net.Conn, *bufio.ReadWriter, error) { return p.conn, p.rw, nil }
