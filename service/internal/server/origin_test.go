package server

import "testing"

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
	}
	for _, tt := range tests {
		if got := matchOrigin(tt.pattern, tt.scheme, tt.host); got != tt.want {
			t.Errorf("matchOrigin(%q, %q, %q) = %v, want %v", tt.pattern, tt.scheme, tt.host, got, tt.want)
		}
	}
}
