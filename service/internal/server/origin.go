package server

import (
	"net/http"
	"net/url"
	"strings"
)

// originAllowed applies --allowed-origins. Requests without Origin (not
// from a browser) pass. With no list, only the request's own host passes.
// A pattern is "scheme://host[:port]" or "host[:port]" (any scheme), where
// "*" stands for exactly one host label: "https://*.example.com".
func originAllowed(r *http.Request, patterns []string) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if len(patterns) == 0 {
		return strings.EqualFold(u.Host, r.Host)
	}
	for _, p := range patterns {
		if matchOrigin(p, u.Scheme, u.Host) {
			return true
		}
	}
	return false
}

func matchOrigin(pattern, scheme, host string) bool {
	if pattern == "*" {
		return true
	}
	if ps, rest, ok := strings.Cut(pattern, "://"); ok {
		if !strings.EqualFold(ps, scheme) {
			return false
		}
		pattern = rest
	}
	pl := strings.Split(strings.ToLower(pattern), ".")
	hl := strings.Split(strings.ToLower(host), ".")
	if len(pl) != len(hl) {
		return false
	}
	for i := range pl {
		// "*" stands for one label, and a label is never empty: without the
		// check, "https://*.example.com" would admit "https://.example.com".
		if pl[i] == "*" && hl[i] == "" || pl[i] != "*" && pl[i] != hl[i] {
			return false
		}
	}
	return true
}
