package protocol

import "strings"

// MaxChannelLen is the longest channel name, in bytes.
const MaxChannelLen = 255

// PersonalPrefix starts a user's personal channel: "user:<id>".
const PersonalPrefix = "user:"

// ValidChannel reports whether name is 1–255 bytes of [A-Za-z0-9_:.\-@=/].
func ValidChannel(name string) bool {
	if len(name) == 0 || len(name) > MaxChannelLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !channelByte[name[i]] {
			return false
		}
	}
	return true
}

var channelByte = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "_:.-@=/" {
		t[c] = true
	}
	return t
}()

// Namespace returns the part of a channel name before its first ':' (the
// whole name when it has none).
func Namespace(channel string) string {
	ns, _, _ := strings.Cut(channel, ":")
	return ns
}
