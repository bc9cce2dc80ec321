package server

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		name, peer, xff, want string
		trusted               []netip.Prefix
	}{
		{"untrusted peer: header ignored", "203.0.113.9:1234", "1.2.3.4", "203.0.113.9", trusted},
		{"no trusted proxies: header ignored", "10.0.0.1:1234", "1.2.3.4", "10.0.0.1", nil},
		{"trusted peer: client from header", "10.0.0.1:1234", "1.2.3.4", "1.2.3.4", trusted},
		{"right-most untrusted hop wins over a forged left entry", "10.0.0.1:1", "6.6.6.6, 1.2.3.4, 10.0.0.7", "1.2.3.4", trusted},
		{"trusted peer without header", "10.0.0.1:1", "", "10.0.0.1", trusted},
		{"garbage hop: fall back to the peer", "10.0.0.1:1", "not-an-ip", "10.0.0.1", trusted},
		{"IPv4-mapped peer is unmapped", "[::ffff:10.0.0.1]:1", "1.2.3.4", "1.2.3.4", trusted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/ws", nil)
			r.RemoteAddr = tc.peer
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			if got := clientIP(r, tc.trusted).String(); got != tc.want {
				t.Fatalf("clientIP = %s, want %s", got, tc.want)
			}
		})
	}
}
