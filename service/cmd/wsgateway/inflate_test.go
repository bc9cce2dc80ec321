package main

import (
	"bytes"
	"compress/flate"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// Frame header bits, RFC 6455 §5.2 (RSV1 is permessage-deflate's, RFC 7692).
const (
	finBit    = 0x80
	rsv1Bit   = 0x40
	opCont    = 0x0
	opText    = 0x1
	opPing    = 0x9
	maskedBit = 0x80
)

// clientFrame builds one masked client frame by hand, so that tests can send
// what a well-behaved library never would. The zero mask key leaves the
// payload as it is.
func clientFrame(first byte, payload []byte) []byte {
	f := []byte{first}
	switch n := len(payload); {
	case n < 126:
		f = append(f, maskedBit|byte(n))
	case n <= 0xffff:
		f = append(f, maskedBit|126, byte(n>>8), byte(n))
	default:
		f = append(f, maskedBit|127)
		for shift := 56; shift >= 0; shift -= 8 {
			f = append(f, byte(uint64(n)>>shift))
		}
	}
	f = append(f, 0, 0, 0, 0) // mask key
	return append(f, payload...)
}

// deflated compresses text as permessage-deflate does (a sync-flushed raw
// deflate stream without its final 4 bytes).
func deflated(t testing.TB, text []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := flate.NewWriter(&b, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(text); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// dialDeflate connects to g offering permessage-deflate and fails unless the
// node accepted it.
func dialDeflate(t *testing.T, g *gw) *wsConn {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"wsgateway.v1"}, EnableCompression: true, HandshakeTimeout: 5 * time.Second}
	c, resp, err := d.Dial(g.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if !strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate") {
		t.Fatal("permessage-deflate not negotiated")
	}
	return &wsConn{t: t, c: c}
}

// writeRaw writes bytes straight to the socket, under gorilla's framing.
func (w *wsConn) writeRaw(b []byte) {
	w.t.Helper()
	if _, err := w.c.NetConn().Write(b); err != nil {
		w.t.Fatalf("raw write: %v", err)
	}
}

// heapAllocated returns the bytes allocated so far by this process (the
// node runs in it), cumulative: a message buffered in full shows in it even
// if it is freed at once.
func heapAllocated() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

// TestInflatedMessageOverLimitCloses1009: --max-message-bytes applies to a
// message as inflated, enforced while inflating. A 32 MiB command that
// deflates to about 32 KB (under the 64 KiB limit on the wire) is refused
// with 1009, before connect as after, without the node ever holding it:
// the process allocates far less than the message's size meanwhile.
func TestInflatedMessageOverLimitCloses1009(t *testing.T) {
	const bombSize = 32 << 20
	for _, tc := range []struct {
		name    string
		connect bool
		command string
	}{
		{"connect token before connect", false, `{"id":1,"op":"connect","token":"`},
		{"publish after connect", true, `{"id":2,"op":"publish","channel":"bomb:a","data":"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := startNode(t, "--dev", "--compression", "--max-message-bytes", "65536")
			w := dialDeflate(t, g)
			if tc.connect {
				w.result(w.call(protocol.Command{Op: protocol.OpConnect}))
			}
			text := append([]byte(tc.command), bytes.Repeat([]byte("A"), bombSize)...)
			text = append(text, `"}`...)
			frame := clientFrame(finBit|rsv1Bit|opText, deflated(t, text))
			if len(frame) > 65536 {
				t.Fatalf("the bomb is %d bytes on the wire, want it under the limit", len(frame))
			}
			text = nil
			before := heapAllocated()
			w.writeRaw(frame)
			if code := w.closed(10 * time.Second); code != websocket.CloseMessageTooBig {
				t.Fatalf("closed with %d, want 1009", code)
			}
			if grew := heapAllocated() - before; grew > bombSize/4 {
				t.Fatalf("the node allocated %d MiB for a %d MiB message over the limit: it was buffered", grew>>20, bombSize>>20)
			}
			if _, h := apiCall(t, g, "GET", "/api/v1/history?channel=bomb:a", "", ""); typed[protocol.HistoryResult](t, h).Offset != 0 {
				t.Fatalf("the oversized publish was stored: %s", h)
			}
		})
	}
}

// TestBadFramesWithCompression: with permessage-deflate negotiated on a real
// node, a deflate stream cut short closes with 1007 and RSV1 on a
// continuation frame (RFC 7692 allows it only on a message's first frame)
// with 1002 (the frame guard sits on the hijacked socket), each with a close
// frame rather than a dropped connection, and counted. Corrupt deflate data
// (1007) and RSV1 on a ping (1002) are session's TestReadErrors; the guard's
// cases are TestGuardFrames.
func TestBadFramesWithCompression(t *testing.T) {
	g := startNode(t, "--dev", "--compression")
	for _, tc := range []struct {
		name   string
		frames [][]byte
		want   int
	}{
		{"deflate stream cut short", [][]byte{clientFrame(finBit|rsv1Bit|opText, deflated(t, []byte(`{"id":2,"op":"ping"}`))[:3])},
			websocket.CloseInvalidFramePayloadData},
		{"RSV1 on a continuation frame", [][]byte{
			clientFrame(opText, []byte(`{"id":2,`)), clientFrame(finBit|rsv1Bit|opCont, []byte(`"op":"ping"}`))},
			websocket.CloseProtocolError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := dialDeflate(t, g)
			w.result(w.call(protocol.Command{Op: protocol.OpConnect}))
			for _, f := range tc.frames {
				w.writeRaw(f)
			}
			if code := w.closedNoFail(5 * time.Second); code != tc.want {
				t.Fatalf("closed with %d (-1: still open, 1006: no close frame), want %d", code, tc.want)
			}
		})
	}
	wantMetrics(t, g, map[string]float64{"disconnects_total code=1007": 1})
	wantMetrics(t, g, map[string]float64{"disconnects_total code=1002": 1})
	wantMetrics(t, g, map[string]float64{"disconnects_total code=1006": 0}) // closed, not lost
}
