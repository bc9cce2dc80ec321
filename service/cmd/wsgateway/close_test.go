package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// pingOfSize returns a ping command padded with spaces inside the JSON
// object to exactly size bytes.
func pingOfSize(id, size int) string {
	head := fmt.Sprintf(`{"id":%d,`, id)
	tail := `"op":"ping"}`
	return head + strings.Repeat(" ", size-len(head)-len(tail)) + tail
}

// TestFrameCloseCodes checks what only a real node shows of the close
// codes for bad frames: --max-message-bytes reaches the reader (1009), and
// UTF-8 broken after valid commands of the same frame still closes 1007.
// The codes themselves (1002, 1003, 1007, 1009, 1008) are session's
// TestReadErrors, under synctest.
func TestFrameCloseCodes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		args    []string
		provoke func(w *wsConn) error
		want    int
	}{
		{
			name:    "frame over --max-message-bytes",
			args:    []string{"--max-message-bytes", "1024"},
			provoke: func(w *wsConn) error { return w.c.WriteMessage(websocket.TextMessage, []byte(pingOfSize(9, 1025))) },
			want:    websocket.CloseMessageTooBig, // 1009
		},
		{
			name: "UTF-8 broken after valid commands in the same frame",
			provoke: func(w *wsConn) error {
				return w.c.WriteMessage(websocket.TextMessage, append([]byte(`{"id":9,"op":"ping"}`+"\n"), 0xc3, 0x28))
			},
			want: websocket.CloseInvalidFramePayloadData, // 1007
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := startNode(t, append([]string{"--dev"}, tc.args...)...)
			w := connected(t, g, "")
			w.result(w.call(protocol.Command{Op: protocol.OpPing})) // the connection works before the bad frame
			if err := tc.provoke(w); err != nil {
				t.Fatalf("write: %v", err)
			}
			if got := w.closed(5 * time.Second); got != tc.want {
				t.Fatalf("close code %d, want %d", got, tc.want)
			}
		})
	}
}

// TestFrameAtMaxMessageBytesIsAccepted pins the boundary of 1009: a frame of
// exactly --max-message-bytes is served.
func TestFrameAtMaxMessageBytesIsAccepted(t *testing.T) {
	t.Parallel()
	g := startNode(t, "--dev", "--max-message-bytes", "1024")
	w := connected(t, g, "")
	w.send(pingOfSize(7, 1024))
	if m := w.reply(7); errCode(m) != "" {
		t.Fatalf("ping of 1024 bytes: %s", show(m))
	}
}

// TestFirstCommandNotConnect checks that any other first command gets an
// unauthorized error reply, then close 4001, even in --dev.
func TestFirstCommandNotConnect(t *testing.T) {
	t.Parallel()
	g := startNode(t, "--dev")
	for _, cmd := range []protocol.Command{
		{Op: protocol.OpPing},
		{Op: protocol.OpSubscribe, Channel: "chat:a"},
		{Op: protocol.OpPublish, Channel: "chat:a", Data: json.RawMessage(`1`)},
		{Op: protocol.OpRefresh, Token: "x"},
	} {
		t.Run(cmd.Op, func(t *testing.T) {
			t.Parallel()
			w := dial(t, g, nil)
			if m := w.call(cmd); errCode(m) != protocol.CodeUnauthorized {
				t.Fatalf("reply %s, want error unauthorized", show(m))
			}
			if got := w.closed(5 * time.Second); got != 4001 {
				t.Fatalf("close code %d, want 4001", got)
			}
		})
	}
}

// pingFrame returns one frame of n ping commands with ids first, first+1, ...
func pingFrame(first, n int) string {
	lines := make([]string, n)
	for i := range lines {
		lines[i] = fmt.Sprintf(`{"id":%d,"op":"ping"}`, first+i)
	}
	return strings.Join(lines, "\n")
}

// TestCommandRate checks that --command-rate reaches the connections:
// beyond the burst (twice the rate) commands get rate_limited, and replies
// still come in order. The run of refusals that closes 4029, and its end,
// are session's TestRateLimitRun, under synctest.
func TestCommandRate(t *testing.T) {
	t.Parallel()
	g := startNode(t, "--dev", "--command-rate", "5")
	start := time.Now()
	w := connected(t, g, "") // connect spends one token of the burst of 10
	w.send(pingFrame(100, 50))
	ok, limited := 0, 0
	for id := uint64(100); id < 150; id++ {
		m := w.next()
		if m.ID != id {
			t.Fatalf("reply %s, want id %d: replies must come in command order", show(m), id)
		}
		switch code := errCode(m); code {
		case "":
			ok++
		case "rate_limited":
			limited++
		default:
			t.Fatalf("reply %s: want a result or rate_limited", show(m))
		}
	}
	// The bucket held 10 tokens and refills at 5/s; elapsed bounds the refill.
	mostAllowed := 10 + int(5*time.Since(start).Seconds()+1)
	if ok == 0 || limited == 0 || ok > mostAllowed {
		t.Fatalf("%d ok and %d rate_limited of 50 pings, want some of each and at most %d ok", ok, limited, mostAllowed)
	}

}

// TestClientCloseIsAnswered checks a client-initiated close 1000: the server
// answers with its own close frame 1000 and counts the disconnect by code.
func TestClientCloseIsAnswered(t *testing.T) {
	t.Parallel()
	g := startNode(t, "--dev")
	const series = "disconnects_total code=1000"
	before := metric(t, g, series)
	w := connected(t, g, "")
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")
	if err := w.c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second)); err != nil {
		t.Fatalf("write close: %v", err)
	}
	if got := w.closed(5 * time.Second); got != websocket.CloseNormalClosure {
		t.Fatalf("server answered close code %d, want 1000", got)
	}
	within(t, 5*time.Second, func() bool { return metric(t, g, series) == before+1 },
		func() string { return fmt.Sprintf("%s = %v, want %v", series, metric(t, g, series), before+1) })
}

// TestConnectionLostIsCounted1006 checks a client that vanishes without a
// close frame: the server frees the connection at once and counts it as 1006.
func TestConnectionLostIsCounted1006(t *testing.T) {
	t.Parallel()
	g := startNode(t, "--dev")
	const series = "disconnects_total code=1006"
	before := metric(t, g, series)
	w := connected(t, g, "")
	if n := metric(t, g, "connections"); n != 1 {
		t.Fatalf("wsgateway_connections = %v, want 1", n)
	}
	w.c.Close() // TCP close, no close frame
	within(t, 3*time.Second, func() bool {
		return metric(t, g, series) == before+1 && metric(t, g, "connections") == 0
	}, func() string {
		return fmt.Sprintf("%s = %v (want %v), wsgateway_connections = %v (want 0)", series,
			metric(t, g, series), before+1, metric(t, g, "connections"))
	})
}

// TestAPIDisconnectCloses4003 checks that POST /api/v1/disconnect closes
// every connection of that user with 4003 and no one else's.
func TestAPIDisconnectCloses4003(t *testing.T) {
	t.Parallel()
	g := startNode(t, "--jwt-secret", testSecret, "--api-key", "backend-key")
	alice1 := connected(t, g, token(t, "alice", time.Hour, nil, nil))
	alice2 := connected(t, g, token(t, "alice", time.Hour, nil, nil))
	bob := connected(t, g, token(t, "bob", time.Hour, nil, nil))
	body, _ := json.Marshal(map[string]string{"user": "alice"})
	if code, m := apiCall(t, g, "POST", "/api/v1/disconnect", "backend-key", string(body)); code != 200 {
		t.Fatalf("disconnect: %d %s", code, m)
	}
	for i, w := range []*wsConn{alice1, alice2} {
		if got := w.closed(5 * time.Second); got != 4003 {
			t.Fatalf("alice connection %d: close code %d, want 4003", i+1, got)
		}
	}
	bob.result(bob.call(protocol.Command{Op: protocol.OpPing}))
}
