package main

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// TestSlowConsumer: a subscriber that stops reading is closed with 4008 once
// its send queue overflows, and sees that close frame when it reads again,
// while a subscriber that reads gets every publication in order.
func TestSlowConsumer(t *testing.T) {
	g := startNode(t, "--dev", "--send-queue", "64")
	const ch = "feed:slow"
	slow := dialSmallBuffer(t, g)
	slow.result(slow.call(protocol.Command{Op: protocol.OpConnect}))
	slow.result(slow.call(protocol.Command{Op: protocol.OpSubscribe, Channel: ch}))
	fast := connected(t, g, "")
	fast.result(fast.call(protocol.Command{Op: protocol.OpSubscribe, Channel: ch}))

	got := make(chan []uint64, 1)
	const n = 600 // 600 x 16 KiB is more than the socket buffers and the queue hold
	go func() { got <- readOffsets(fast, ch, n) }()
	payload := strings.Repeat("x", 16<<10)
	for i := 0; i < n; i++ {
		if code, body := apiCall(t, g, "POST", "/api/v1/publish", "", fmt.Sprintf(`{"channel":%q,"data":%q}`, ch, payload)); code != 200 {
			t.Fatalf("publish %d: %d %v", i, code, body)
		}
	}
	wantMetrics(t, g, map[string]float64{"slow_consumer_disconnects_total": 1})
	if code := slow.closed(10 * time.Second); code != 4008 {
		t.Fatalf("slow consumer closed with %d, want 4008", code)
	}
	select {
	case offs := <-got:
		if !equal(offs, seq(1, n)) {
			t.Fatalf("reading subscriber got %d offsets, first gap near %v", len(offs), firstGap(offs))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("reading subscriber did not get every publication")
	}
	wantMetrics(t, g, map[string]float64{"disconnects_total code=4008": 1})
}

// dialSmallBuffer connects with a 16 KiB receive buffer, so that a client
// that stops reading stalls the server's writes quickly (Linux otherwise
// autotunes loopback receive buffers up to tens of MiB).
func dialSmallBuffer(t *testing.T, g *gw) *wsConn {
	t.Helper()
	nd := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 16<<10)
		})
		return errors.Join(err, serr)
	}}
	d := websocket.Dialer{NetDialContext: nd.DialContext, Subprotocols: []string{"wsgateway.v1"}}
	c, _, err := d.Dial(g.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &wsConn{t: t, c: c}
}

// readOffsets reads n pushes without failing the test from a goroutine;
// it returns what it read when the connection ends early.
func readOffsets(w *wsConn, ch string, n int) []uint64 {
	var out []uint64
	for len(out) < n {
		_ = w.c.SetReadDeadline(time.Now().Add(20 * time.Second))
		_, frame, err := w.c.ReadMessage()
		if err != nil {
			return out
		}
		for _, line := range strings.Split(string(frame), "\n") {
			var off uint64
			if _, err := fmt.Sscanf(line[strings.Index(line, `"offset":`)+9:], "%d", &off); err == nil {
				out = append(out, off)
			}
		}
	}
	return out
}

func firstGap(offs []uint64) uint64 {
	for i, o := range offs {
		if o != uint64(i+1) {
			return uint64(i + 1)
		}
	}
	return uint64(len(offs) + 1)
}
