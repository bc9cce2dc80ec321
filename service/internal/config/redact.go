package config

import (
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// secretFlags are shown only as set or not.
var secretFlags = map[string]bool{"jwt-secret": true, "api-key": true, "webhook-secret": true}

// Redacted returns every setting keyed by its flag name, fit to log at
// startup: secrets become "<set>" or "", a password in --redis-url becomes
// "xxxxx", durations are strings such as "25s" and prefixes are strings.
func (c Config) Redacted() map[string]any {
	m := map[string]any{}
	for _, s := range specs(&c) {
		switch p := s.ptr.(type) {
		case *string:
			m[s.name] = redactString(s.name, *p)
		case *time.Duration:
			m[s.name] = p.String()
		case *[]netip.Prefix:
			m[s.name] = (*prefixList)(p).strings()
		case *[]string:
			m[s.name] = slices.Clone(*p)
		case *bool:
			m[s.name] = *p
		case *int:
			m[s.name] = *p
		case *int64:
			m[s.name] = *p
		case *float64:
			m[s.name] = *p
		}
	}
	return m
}

// LogValue makes a Config log as its Redacted settings, so logging a Config
// never leaks a secret.
func (c Config) LogValue() slog.Value {
	m := c.Redacted()
	attrs := make([]slog.Attr, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		attrs = append(attrs, slog.Any(k, m[k]))
	}
	return slog.GroupValue(attrs...)
}

func redactString(flagName, v string) string {
	switch {
	case secretFlags[flagName] && v != "":
		return "<set>"
	case flagName == "redis-url":
		return redactURL(v)
	}
	return v
}

// redactURL replaces the password in a URL's user info with "xxxxx". It
// works on the text, since a redis-sentinel:// or redis-cluster:// URL with
// several hosts is not one net/url.URL.
func redactURL(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	authority, path, hasPath := strings.Cut(rest, "/")
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return u
	}
	user, _, hasPassword := strings.Cut(authority[:at], ":")
	if !hasPassword {
		return u
	}
	out := scheme + "://" + user + ":xxxxx" + authority[at:]
	if hasPath {
		out += "/" + path
	}
	return out
}
