package config

import (
	"bytes"
	"log/slog"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRedacted(t *testing.T) {
	c := valid(func(c *Config) {
		c.JWTSecret, c.APIKey = "hunter2", "k3y"
		c.RedisURL = "redis-sentinel://:pw@h1:26379,h2:26379/mymaster"
		c.AllowedOrigins = []string{"https://a.example"}
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	})
	want := map[string]any{
		"listen": ":8080", "api-listen": ":8081", "admin-listen": ":9090",
		"node-id": "host-a", "zone": "",
		"redis-url":  "redis-sentinel://:xxxxx@h1:26379,h2:26379/mymaster",
		"jwt-secret": "<set>", "jwt-public-key": "", "jwt-audience": "", "jwt-issuer": "",
		"api-key": "<set>", "allowed-origins": []string{"https://a.example"}, "dev": false,
		"history-size": 1000, "history-ttl": "10m0s", "ping-interval": "25s",
		"max-connections": 100000, "max-message-bytes": int64(65536), "compression": false,
		"max-subscriptions": 1000, "connect-rate": 0.0, "trusted-proxies": []string{"10.0.0.0/8"},
		"command-rate": 100.0, "drain-delay": "5s", "drain-window": "20s",
		"send-queue": 1024, "log-level": "info", "pprof": false,
		"redis-min-replicas": 0, "redis-replica-timeout": "500ms", "inbox-max-len": 100000, "inbox-no-worker": "30s", "inbox-partitions": 16,
		"events": false, "vacated-delay": "3s", "webhook-url": "", "webhook-secret": "", "webhook-retry-window": "1h0m0s", "join-leave-namespaces": []string(nil),
		"jwt-leeway": "5s", "hooks-config": "",
		"channel-meta-ttl": "24h0m0s", "history-max-channels": 100000,
		"send-queue-bytes": int64(4 << 20), "max-reply-bytes": int64(1 << 20),
	}
	if diff := cmp.Diff(want, c.Redacted()); diff != "" {
		t.Errorf("Redacted (-want +got):\n%s", diff)
	}

	c.JWTSecret, c.APIKey = "", ""
	if got := c.Redacted(); got["jwt-secret"] != "" || got["api-key"] != "" {
		t.Errorf("unset secrets: jwt-secret %q, api-key %q, want both empty", got["jwt-secret"], got["api-key"])
	}
}

func TestLogValueHidesSecrets(t *testing.T) {
	c := valid(func(c *Config) {
		c.JWTSecret, c.APIKey, c.RedisURL = "hunter2", "k3y-k3y", "rediss://user:pa55@h:6380/0"
	})
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("starting", "config", c)
	out := buf.String()
	for _, secret := range []string{"hunter2", "k3y-k3y", "pa55"} {
		if strings.Contains(out, secret) {
			t.Errorf("log line leaks %q: %s", secret, out)
		}
	}
	for _, shown := range []string{`"jwt-secret":"<set>"`, `"redis-url":"rediss://user:xxxxx@h:6380/0"`, `"ping-interval":"25s"`} {
		if !strings.Contains(out, shown) {
			t.Errorf("log line lacks %s: %s", shown, out)
		}
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"no user info", "redis://h:6379/0", "redis://h:6379/0"},
		{"user without password", "redis://user@h:6379", "redis://user@h:6379"},
		{"password only", "redis://:pw@h:6379", "redis://:xxxxx@h:6379"},
		{"user and password, no path", "rediss://u:p@w@h:6380", "rediss://u:xxxxx@h:6380"},
		{"several hosts", "redis-sentinel://:pw@h1:26379,h2:26379/m", "redis-sentinel://:xxxxx@h1:26379,h2:26379/m"},
		{"not a URL", "localhost:6379", "localhost:6379"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redactURL(tt.in); got != tt.want {
				t.Errorf("redactURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
