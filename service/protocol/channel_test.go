package protocol

import (
	"strings"
	"testing"
)

func TestValidChannel(t *testing.T) {
	tests := []struct {
		name    string
		channel string
		want    bool
	}{
		{"one byte", "a", true},
		{"255 bytes", strings.Repeat("a", 255), true},
		{"empty", "", false},
		{"256 bytes", strings.Repeat("a", 256), false},
		{"namespace and name", "chat:lobby", true},
		{"personal channel", "user:alice", true},
		{"all letters and digits", "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", true},
		{"underscore", "a_b", true},
		{"colon", "a:b", true},
		{"dot", "a.b", true},
		{"dash", "a-b", true},
		{"at", "a@b", true},
		{"equals", "a=b", true},
		{"slash", "a/b", true},
		{"only punctuation", "_:.-@=/", true},
		{"space", "a b", false},
		{"tab", "a\tb", false},
		{"newline", "a\n", false},
		{"NUL", "a\x00", false},
		{"star", "chat:*", false},
		{"hash", "a#b", false},
		{"plus", "a+b", false},
		{"comma", "a,b", false},
		{"quote", `a"b`, false},
		{"backslash", `a\b`, false},
		{"question mark", "a?b", false},
		{"percent", "a%20b", false},
		{"unicode letter", "chät", false},
		{"emoji", "🎉", false},
		{"invalid UTF-8", "a\xff", false},
		{"256 bytes of which the last is bad", strings.Repeat("a", 255) + " ", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidChannel(tt.channel); got != tt.want {
				t.Errorf("ValidChannel(%q) = %v, want %v", tt.channel, got, tt.want)
			}
		})
	}
}

func TestNamespace(t *testing.T) {
	tests := []struct {
		name, channel, want string
	}{
		{"namespace and name", "chat:lobby", "chat"},
		{"first colon only", "chat:room:1", "chat"},
		{"no namespace", "lobby", "lobby"},
		{"empty namespace", ":lobby", ""},
		{"trailing colon", "chat:", "chat"},
		{"personal channel", "user:alice", "user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Namespace(tt.channel); got != tt.want {
				t.Errorf("Namespace(%q) = %q, want %q", tt.channel, got, tt.want)
			}
		})
	}
}
