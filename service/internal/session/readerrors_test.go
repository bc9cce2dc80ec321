package session

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestReadErrors: how the reader's errors and the messages it refuses end
// a connection: the close frame the client reads (from the session, or from
// gorilla/websocket, which answers framing errors itself) and the code the
// session is counted closed with. The timeouts before and after connect are
// TestKeepalive's.
func TestReadErrors(t *testing.T) {
	connect := moment{at: 0, do: sends(connectCmd(1, "")), want: []string{"ok 1"}}
	cfg := Config{Dev: true, PingInterval: time.Hour, MaxMessageBytes: 1000}
	control := func(code int, text string) func(*testing.T, *peer) {
		return func(t *testing.T, p *peer) {
			msg := websocket.FormatCloseMessage(code, text)
			if code == websocket.CloseNoStatusReceived {
				msg = nil
			}
			if err := p.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// message writes a message that the session may refuse before it is
	// read whole: the write may then fail.
	message := func(mt int, data []byte) func(*testing.T, *peer) {
		return func(t *testing.T, p *peer) { _ = p.conn.WriteMessage(mt, data) }
	}
	compressed := func(data []byte) func(*testing.T, *peer) {
		return func(t *testing.T, p *peer) {
			p.conn.EnableWriteCompression(true)
			if err := p.conn.WriteMessage(websocket.TextMessage, data); err != nil {
				t.Fatal(err)
			}
		}
	}
	raw := func(b []byte) func(*testing.T, *peer) {
		return func(t *testing.T, p *peer) { p.sendRaw(t, b) }
	}
	deflate := peerOptions{compress: true, readLimit: 2000}
	for _, st := range []story{
		{name: "a close frame is answered with its code", cfg: cfg, moments: []moment{
			connect, {at: time.Second, do: control(1001, "bye"), want: []string{"close 1001"}},
		}, code: "1001"},
		{name: "a close frame without a code is answered 1000", cfg: cfg, moments: []moment{
			connect, {at: time.Second, do: control(websocket.CloseNoStatusReceived, ""), want: []string{"close 1000"}},
		}, code: "other"},
		{name: "the connection lost without a close frame", cfg: cfg, moments: []moment{
			connect, {at: time.Second, do: func(t *testing.T, p *peer) { p.conn.NetConn().Close() }, want: []string{"gone"}},
		}, code: "1006"},
		{name: "a frame over the wire limit: gorilla closes 1009", cfg: cfg, opt: peerOptions{readLimit: 1000}, moments: []moment{
			connect, {at: time.Second, do: message(websocket.TextMessage, bytes.Repeat([]byte("x"), 1001)), want: []string{"close 1009"}},
		}, code: "1009"},
		{name: "a message over the limit once inflated: 1009", cfg: cfg, opt: deflate, moments: []moment{
			connect, {at: time.Second, do: compressed(bytes.Repeat([]byte(" "), 1001)), want: []string{"close 1009 frame too big"}},
		}, code: "1009"},
		{name: "a message at the limit once inflated is read", cfg: cfg, opt: deflate, moments: []moment{
			connect, {at: time.Second, do: compressed([]byte(pingCmd(2) + strings.Repeat(" ", 1000-len(pingCmd(2))))), want: []string{"ok 2"}},
		}, code: "1006"},
		{name: "a compressed message that does not inflate: 1007", cfg: cfg, opt: deflate, moments: []moment{
			// Unmasked, the payload starts a deflate block of the reserved type 3.
			connect, {at: time.Second, do: raw(frame(0xc1, []byte{0x06, 2, 3, 4})), want: []string{"close 1007 invalid compressed data"}},
		}, code: "1007"},
		{name: "RSV1 on a ping, passed by gorilla with deflate on: 1002 from the frame guard", cfg: cfg, opt: deflate, moments: []moment{
			connect, {at: time.Second, do: raw(frame(0xc9, nil)), want: []string{"close 1002 protocol error"}},
		}, code: "1002"},
		{name: "RSV2: gorilla closes 1002", cfg: cfg, moments: []moment{
			connect, {at: time.Second, do: raw(frame(0xa1, []byte("x"))), want: []string{"close 1002 RSV2 set"}},
		}, code: "1002"},
		{name: "a binary message: 1003", cfg: cfg, moments: []moment{
			connect, {at: time.Second, do: message(websocket.BinaryMessage, []byte(pingCmd(2))), want: []string{"close 1003 binary frames are not supported"}},
		}, code: "1003"},
		{name: "invalid UTF-8: 1007", cfg: cfg, moments: []moment{
			connect, {at: time.Second, do: message(websocket.TextMessage, []byte{'"', 0xff, '"'}), want: []string{"close 1007 invalid UTF-8"}},
		}, code: "1007"},
		{name: "three malformed frames in a row: 1008", cfg: cfg, moments: []moment{
			connect, {at: time.Second, do: func(t *testing.T, p *peer) {
				p.send(t, "x")
				p.send(t, pingCmd(2), `{"id":3,"op":"nope"}`)
				p.send(t, "[]")
			}, want: []string{"error 0 bad_request", "ok 2", "error 3 bad_request", "error 0 bad_request", "close 1008 three malformed frames in a row"}},
		}, code: "1008"},
		{name: "a good frame between malformed ones starts the count again", cfg: cfg, moments: []moment{
			connect, {at: time.Second, do: func(t *testing.T, p *peer) {
				p.send(t, "x")
				p.send(t, "x")
				p.send(t, pingCmd(2))
				p.send(t, "x")
				p.send(t, "x")
			}, want: []string{"error 0 bad_request", "error 0 bad_request", "ok 2", "error 0 bad_request", "error 0 bad_request"}},
		}, code: "1006"},
	} {
		tell(t, st)
	}
}
