package hooks

import (
	"net/textproto"
	"strings"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// validNamespace: a namespace is a channel name without ':', so every
// channel of it can exist.
func validNamespace(ns string) bool {
	return protocol.ValidChannel(ns) && !strings.Contains(ns, ":")
}

// validName: endpoint names are label values and log keys: keep them short
// and plain.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// validHeaderName: an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

func canonicalHeader(s string) string { return textproto.CanonicalMIMEHeaderKey(s) }

// validAppCode: an error code the backend may return, [a-z][a-z0-9_]{0,63}.
func validAppCode(s string) bool {
	if len(s) == 0 || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
