package config

import (
	"strings"
	"testing"
)

func TestUsageShowsEveryFlag(t *testing.T) {
	var b strings.Builder
	Usage(&b)
	out := b.String()
	c := Default()
	for _, s := range specs(&c) {
		t.Run(s.name, func(t *testing.T) {
			if !strings.Contains(out, "  --"+s.name+" ") {
				t.Errorf("usage lacks --%s", s.name)
			}
			if !strings.Contains(out, "(env "+EnvName(s.name)+")") {
				t.Errorf("usage lacks %s", EnvName(s.name))
			}
		})
	}
	for _, want := range []string{
		`(default ":8080")`, `(default 1000)`, `(default 10m0s)`, `(default 25s)`, `(default 65536)`,
		`(default 100)`, `(default 1024)`, `(default "info")`,
		"--listen host:port  (env WSG_LISTEN)", "--history-size int  (env WSG_HISTORY_SIZE)",
		"--dev  (env WSG_DEV)", "--trusted-proxies list  (env WSG_TRUSTED_PROXIES)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("usage lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("usage:\n%s", out)
	}
}

func TestEnvName(t *testing.T) {
	tests := []struct{ flag, want string }{
		{"redis-url", "WSG_REDIS_URL"}, {"dev", "WSG_DEV"}, {"max-message-bytes", "WSG_MAX_MESSAGE_BYTES"},
	}
	for _, tt := range tests {
		if got := EnvName(tt.flag); got != tt.want {
			t.Errorf("EnvName(%q) = %q, want %q", tt.flag, got, tt.want)
		}
	}
}
