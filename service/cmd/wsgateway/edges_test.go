package main

import (
	"bufio"
	"net"
	"net/http"
	"testing"
	"time"
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

// TestPingIntervalFlag: --ping-interval reaches the connect result and the
// node's ping timer. The close of a client that never answers (1011, "no
// pong or traffic", twice the interval after its last traffic) is session's
// TestKeepalive, under synctest.
func TestPingIntervalFlag(t *testing.T) {
	t.Parallel()
	g := startNode(t, "--dev", "--ping-interval", "1s")
	w, res := connectedAs(t, g, "")
	if res.PingInterval != 1 {
		t.Fatalf("connect result ping_interval %d, want 1", res.PingInterval)
	}
	pinged := false
	w.c.SetPingHandler(func(string) error {
		pinged = true
		return w.c.SetReadDeadline(time.Now()) // ends the read below
	})
	_ = w.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for !pinged {
		if _, _, err := w.c.ReadMessage(); err != nil && !pinged {
			t.Fatalf("no ping within 5 s of a 1 s --ping-interval: %v", err)
		}
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
