package auth

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

var pathological = strings.Repeat("a*", 30) + "b"

func TestMatch(t *testing.T) {
	longA := strings.Repeat("a", 255)
	tests := []struct {
		name, pattern, channel string
		want                   bool
	}{
		{"prefix star, one level", "chat:*", "chat:a", true},
		{"prefix star crosses colons", "chat:*", "chat:a:b", true},
		{"prefix star crosses slashes", "chat:*", "chat:a/b", true},
		{"prefix star, empty rest", "chat:*", "chat:", true},
		{"prefix star needs the colon", "chat:*", "chat", false},
		{"prefix star, other namespace", "chat:*", "chats:a", false},
		{"star alone, empty", "*", "", true},
		{"star alone, anything", "*", "user:bob:x/y", true},
		{"stars only", "***", "abc", true},
		{"a*b*c in order", "a*b*c", "axxbyyc", true},
		{"a*b*c adjacent", "a*b*c", "abc", true},
		{"a*b*c out of order", "a*b*c", "acb", false},
		{"a*b*c trailing junk", "a*b*c", "abcd", false},
		{"a*b*c needs backtracking", "a*b*c", "abcbc", true},
		{"suffix star", "*:lobby", "chat:room:lobby", true},
		{"suffix star, no match", "*:lobby", "chat:lobby2", false},
		{"literal equal", "chat:lobby", "chat:lobby", true},
		{"literal prefix only", "chat:lobby", "chat:lobby2", false},
		{"literal longer", "chat:lobby", "chat:lob", false},
		{"literal case matters", "Chat", "chat", false},
		{"regexp metacharacters are literal", "a.b+?", "a.b+?", true},
		{"dot is not a wildcard", "a.b", "axb", false},
		{"empty pattern, empty channel", "", "", true},
		{"empty pattern, non-empty channel", "", "a", false},
		{"non-empty pattern, empty channel", "a", "", false},
		{"pathological, no match", pathological, longA, false},
		{"pathological, match", pathological, longA + "b", true},
		{"repeated star pattern, no match", strings.Repeat("*a", 30) + "*b", longA + "c", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Match(tt.pattern, tt.channel); got != tt.want {
				t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.channel, got, tt.want)
			}
		})
	}
}

// matchRegexp is the reference Match: each '*' becomes ".*", the rest is quoted.
func matchRegexp(t *testing.T, pattern, channel string) bool {
	t.Helper()
	parts := strings.Split(pattern, "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	re, err := regexp.Compile(`(?s)^` + strings.Join(parts, ".*") + `$`)
	if err != nil {
		t.Fatalf("compile reference for %q: %v", pattern, err)
	}
	return re.MatchString(channel)
}

func FuzzMatch(f *testing.F) {
	for _, s := range [][2]string{
		{"chat:*", "chat:a:b"}, {"*", ""}, {"", ""}, {"a*b*c", "abcbc"}, {"*a*", "bab"},
		{"a**b", "ab"}, {"*:*", "chat"}, {pathological, strings.Repeat("a", 40)},
		{"ü*ß", "üxß"}, {"\n*", "\n\n"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, channel string) {
		if !utf8.ValidString(pattern) || !utf8.ValidString(channel) {
			t.Skip("the regexp reference works on runes; Match on bytes")
		}
		if got, want := Match(pattern, channel), matchRegexp(t, pattern, channel); got != want {
			t.Errorf("Match(%q, %q) = %v, reference says %v", pattern, channel, got, want)
		}
	})
}

func BenchmarkMatch(b *testing.B) {
	channel := strings.Repeat("a", 255)
	for _, bc := range []struct{ name, pattern string }{
		{"prefix", "chat:*"},
		{"pathological", pathological},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				Match(bc.pattern, channel)
			}
		})
	}
}
