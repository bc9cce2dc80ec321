package server

import (
	"net/http/httptest"
	"testing"
)

// TestMatchOrigin: one --allowed-origins pattern against an Origin's scheme
// and host: "*" for exactly one non-empty label, the scheme when the pattern
// names one, the port always, case never.
func TestMatchOrigin(t *testing.T) {
	tests := []struct {
		pattern, scheme, host string
		want                  bool
	}{
		{"*", "https", "anything.example", true},
		{"https://*.example.com", "https", "a.example.com", true},
		{"https://*.example.com", "https", "A.Example.COM", true},
		{"https://*.example.com", "https", ".example.com", false},
		{"https://*.example.com", "https", "example.com", false},
		{"https://*.example.com", "https", "a.b.example.com", false},
		{"https://*.example.com", "http", "a.example.com", false},
		{"*.example.com", "http", "a.example.com", true},
		{"https://*.*.example.com", "https", "a..example.com", false},
		{"localhost:3000", "http", "localhost:3000", true},
		{"localhost:3000", "http", "localhost:3001", false},
		{"localhost:3000", "http", "localhost", false},
		{"HTTPS://App.Example.com", "https", "app.example.COM", true},
		{"https://*.example.com:8443", "https", "a.example.com:8443", true},
		{"https://*.example.com:8443", "https", "a.example.com", false},
		{"https://*.example.com", "https", "a.example.com:8443", false},
		{"https://*", "https", "localhost", true},
		{"https://*", "https", "a.b", false},
		{"example.com", "https", "evil-example.com", false},
		{"example.com", "https", "example.com.evil.net", false},
	}
	for _, tt := range tests {
		if got := matchOrigin(tt.pattern, tt.scheme, tt.host); got != tt.want {
			t.Errorf("matchOrigin(%q, %q, %q) = %v, want %v", tt.pattern, tt.scheme, tt.host, got, tt.want)
		}
	}
}

// TestOriginAllowed: the upgrade's Origin check, as --allowed-origins sets
// it: no Origin (not a browser) passes; with no list only the request's own
// host; otherwise any pattern of the list.
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
		{"same host in another case", "GW:8080", "http://gw:8080", nil, true},
		{"same host, other port", "gw:8080", "http://gw:8081", nil, false},
		{"the opaque origin of a sandboxed page", "gw", "null", list, false},
		{"an origin without a host", "gw", "https://", list, false},
		{"no pattern matches", "gw", "https://example.org", list, false},
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
