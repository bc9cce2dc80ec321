package main

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestUpgradeRefusals: handshakes RFC 6455 does not allow, or that could
// only fail after the upgrade, get a plain HTTP 400 before it.
func TestUpgradeRefusals(t *testing.T) {
	t.Parallel()
	g := startNode(t, "--dev")
	const upgrade = "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	cases := []struct {
		name    string
		request string
		want    int
	}{
		{"HTTP/1.1 without subprotocol gets v1", "GET /ws HTTP/1.1\r\nHost: x\r\n" + upgrade, http.StatusSwitchingProtocols},
		{"HTTP/1.1 offering v1 among others", "GET /ws HTTP/1.1\r\nHost: x\r\n" + upgrade +
			"Sec-WebSocket-Protocol: chat.v9, wsgateway.v1\r\n", http.StatusSwitchingProtocols},
		{"HTTP/1.0 upgrade", "GET /ws HTTP/1.0\r\nHost: x\r\n" + upgrade, http.StatusBadRequest},
		{"only unknown subprotocols offered", "GET /ws HTTP/1.1\r\nHost: x\r\n" + upgrade +
			"Sec-WebSocket-Protocol: wsgateway.v2, mqtt\r\n", http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			conn, err := net.DialTimeout("tcp", g.Client, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := conn.Write([]byte(tc.request + "\r\n")); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("read response: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

// TestStaleConnectionCloses1011: a client that never answers pings and
// sends nothing is closed after twice --ping-interval with 1011 and its own
// reason, "no pong or traffic", not the generic "internal error".
func TestStaleConnectionCloses1011(t *testing.T) {
	t.Parallel()
	g := startNode(t, "--dev", "--ping-interval", "1s")
	w := connected(t, g, "")
	w.c.SetPingHandler(func(string) error { return nil }) // read pings, never pong
	_ = w.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := w.c.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("connection ended without a close frame: %v", err)
		}
		if ce.Code != 1011 || ce.Text != "no pong or traffic" {
			t.Fatalf("close %d %q, want 1011 %q", ce.Code, ce.Text, "no pong or traffic")
		}
		return
	}
}

// TestDevWithAPIKeyStillRequiresTheKey: --dev waives the API key only when
// none is configured; a configured key is always required.
func TestDevWithAPIKeyStillRequiresTheKey(t *testing.T) {
	t.Parallel()
	g := startNode(t, "--dev", "--api-key", "k")
	for _, tc := range []struct {
		key  string
		want int
	}{{"", http.StatusUnauthorized}, {"wrong", http.StatusUnauthorized}, {"k", http.StatusOK}} {
		code, res := apiCall(t, g, "GET", "/api/v1/nodes", tc.key, "")
		if code != tc.want {
			t.Errorf("key %q: %d %v, want %d", tc.key, code, res, tc.want)
		}
	}
	if code, _ := apiCall(t, g, "POST", "/api/v1/publish", "", `{"channel":"a","data":1}`); code != http.StatusUnauthorized {
		t.Errorf("publish without the key: %d, want 401", code)
	}
}
