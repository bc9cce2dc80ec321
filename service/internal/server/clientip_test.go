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

func TestOriginAllowed(t *testing.T) {
	list := []string{"https://*.example.com", "localhost:3000"}
	tests := []struct {
		name, host, origin string
		patterns           []string
		want               bool
	}{
		{"no Origin (not a browser)", "gw:8080", "", list, true},
		{"same host by default", "gw:8080", "http://gw:8080", nil, true},
		{"other host by default", "gw:8080", "http://evil:8080", nil, false},
		{"wildcard matches one label", "gw", "https://a.example.com", list, true},
		{"wildcard does not match two labels", "gw", "https://a.b.example.com", list, false},
		{"scheme must match", "gw", "http://a.example.com", list, false},
		{"pattern without scheme takes any", "gw", "http://localhost:3000", list, true},
		{"port must match", "gw", "http://localhost:3001", list, false},
		{"unparsable origin", "gw", "::", list, false},
		{"star allows all", "gw", "https://anything.test", []string{"*"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://"+tc.host+"/ws", nil)
			if tc.origin != "" {
				r.Header.Set("Origin", tc.origin)
			}
			if got := originAllowed(r, tc.patterns); got != tc.want {
				t.Fatalf("originAllowed = %v, want %v", got, tc.want)
			}
		})
	}
}
