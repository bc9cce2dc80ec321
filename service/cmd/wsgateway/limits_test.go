package main

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// upgrade tries one upgrade and returns its HTTP status (101 on success),
// closing the connection at the end of the test.
func upgrade(t *testing.T, g *gw, header http.Header) int {
	t.Helper()
	c, resp, err := dialRaw(g, header)
	if err == nil {
		t.Cleanup(func() { c.Close() })
		return resp.StatusCode
	}
	if resp == nil {
		t.Fatalf("dial: %v", err)
	}
	return resp.StatusCode
}

func TestMaxConnections(t *testing.T) {
	t.Parallel()
	g := startNode(t, "--dev", "--max-connections", "3")
	var conns []*wsConn
	for range 3 {
		conns = append(conns, dial(t, g, nil))
	}
	if got := upgrade(t, g, nil); got != http.StatusServiceUnavailable {
		t.Fatalf("4th upgrade: status %d, want 503", got)
	}
	if n := metric(t, g, "connects_total result=over_limit"); n != 1 {
		t.Fatalf(`connects_total{result="over_limit"} = %v, want 1`, n)
	}
	conns[0].c.Close()
	// The slot is freed when the server has torn the session down.
	var got int
	within(t, 5*time.Second, func() bool {
		got = upgrade(t, g, nil)
		return got == http.StatusSwitchingProtocols
	}, func() string { return fmt.Sprintf("after one connection closed: upgrade status %d, want 101", got) })
	if got := upgrade(t, g, nil); got != http.StatusServiceUnavailable {
		t.Fatalf("upgrade beyond the limit again: status %d, want 503", got)
	}
	conns[1].result(conns[1].call(protocol.Command{Op: protocol.OpConnect})) // the others were not disturbed
}

// TestConnectRate checks --connect-rate 2 (burst 4) per client IP, with
// the IP taken from X-Forwarded-For only when the peer is a trusted proxy.
// The steps run back to back, far faster than the 2/s refill.
func TestConnectRate(t *testing.T) {
	t.Parallel()
	type step struct {
		xff  string // X-Forwarded-For, "" for none
		want int
	}
	burst := func(xff string) []step {
		return []step{{xff, 101}, {xff, 101}, {xff, 101}, {xff, 101}, {xff, 429}}
	}
	cases := []struct {
		name  string
		args  []string
		steps []step
	}{
		{"burst of 4 then 429", nil, burst("")},
		{"trusted proxy: each forwarded client has its own burst", []string{"--trusted-proxies", "127.0.0.1/32"},
			append(burst("203.0.113.1"), burst("203.0.113.2")...)},
		{"trusted proxy: the right-most untrusted hop is the client", []string{"--trusted-proxies", "127.0.0.1/32"},
			append(burst("198.51.100.7, 203.0.113.1"), step{"198.51.100.8, 203.0.113.1", 429}, step{"203.0.113.2", 101})},
		{"untrusted peer: X-Forwarded-For is ignored", nil,
			append(burst("203.0.113.1")[:4], step{"203.0.113.2", 429})},
		{"IPv6: every address of one /64 shares a burst", []string{"--trusted-proxies", "127.0.0.1/32"},
			[]step{{"2001:db8:1:2::1", 101}, {"2001:db8:1:2::2", 101}, {"2001:db8:1:2:ffff::3", 101},
				{"2001:db8:1:2:aaaa:bbbb:cccc:4", 101}, {"2001:db8:1:2::5", 429}, {"2001:db8:1:3::1", 101}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := startNode(t, append([]string{"--dev", "--connect-rate", "2"}, tc.args...)...)
			start := time.Now()
			for i, s := range tc.steps {
				h := http.Header{}
				if s.xff != "" {
					h.Set("X-Forwarded-For", s.xff)
				}
				if got := upgrade(t, g, h); got != s.want {
					t.Fatalf("step %d (X-Forwarded-For %q, %v after the first): status %d, want %d",
						i+1, s.xff, time.Since(start), got, s.want)
				}
			}
		})
	}
}

func TestMaxSubscriptions(t *testing.T) {
	t.Parallel()
	g := startNode(t, "--dev", "--max-subscriptions", "2")
	w := connected(t, g, "")
	sub := func(ch string) protocol.Message {
		return w.call(protocol.Command{Op: protocol.OpSubscribe, Channel: ch})
	}
	w.result(sub("chat:a"))
	w.result(sub("chat:b"))
	if m := sub("chat:c"); errCode(m) != "too_many_subscriptions" {
		t.Fatalf("third subscribe: %s, want too_many_subscriptions", show(m))
	}
	w.result(w.call(protocol.Command{Op: protocol.OpUnsubscribe, Channel: "chat:a"}))
	w.result(sub("chat:c")) // unsubscribing frees the slot
	if m := sub("chat:a"); errCode(m) != "too_many_subscriptions" {
		t.Fatalf("subscribe beyond the limit again: %s, want too_many_subscriptions", show(m))
	}
}

// TestAllowedOrigins checks that --allowed-origins reaches the upgrade: the
// default (the node's own host only) and a list. The matching rules are
// server's TestMatchOrigin and TestOriginAllowed.
func TestAllowedOrigins(t *testing.T) {
	t.Parallel()
	const self = "SELF" // stands for http://<the node's own host:port>
	cases := []struct {
		name   string
		args   []string
		origin string // "" sends no Origin
		want   int
	}{
		{"default: no Origin", nil, "", 101},
		{"default: same host", nil, self, 101},
		{"default: other host", nil, "https://evil.example.com", 403},
		{"list: wildcard label", []string{"--allowed-origins", "https://*.example.com,http://localhost:3000"}, "https://a.example.com", 101},
		{"list: exact origin", []string{"--allowed-origins", "https://*.example.com,http://localhost:3000"}, "http://localhost:3000", 101},
		{"list: same host is not implied", []string{"--allowed-origins", "https://*.example.com,http://localhost:3000"}, self, 403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := startNode(t, append([]string{"--dev"}, tc.args...)...)
			h := http.Header{}
			switch tc.origin {
			case "":
			case self:
				h.Set("Origin", "http://"+g.Client)
			default:
				h.Set("Origin", tc.origin)
			}
			if got := upgrade(t, g, h); got != tc.want {
				t.Fatalf("Origin %q: status %d, want %d", h.Get("Origin"), got, tc.want)
			}
		})
	}
}

func TestSubprotocol(t *testing.T) {
	t.Parallel()
	g := startNode(t, "--dev")
	cases := []struct {
		name    string
		offered []string
		want    string
	}{
		{"offered", []string{"wsgateway.v1"}, "wsgateway.v1"},
		{"offered among others", []string{"other.v9", "wsgateway.v1"}, "wsgateway.v1"},
		{"none offered", nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := websocket.Dialer{Subprotocols: tc.offered, HandshakeTimeout: 5 * time.Second}
			c, resp, err := d.Dial(g.URL(), nil)
			if err != nil {
				t.Fatalf("dial: %v (status %d)", err, status(resp))
			}
			t.Cleanup(func() { c.Close() })
			if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != tc.want {
				t.Fatalf("Sec-WebSocket-Protocol %q, want %q", got, tc.want)
			}
			w := &wsConn{t: t, c: c}
			w.result(w.call(protocol.Command{Op: protocol.OpConnect}))
			w.result(w.call(protocol.Command{Op: protocol.OpPing}))
		})
	}
}
