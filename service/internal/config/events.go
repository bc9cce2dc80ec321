package config

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// checkEvents checks the lifecycle events' settings: they need Redis (the
// in-process broker emits no events), a webhook needs a well-formed URL and
// secret, and the delays are bounded.
func (c Config) checkEvents(p []string) []string {
	if c.RedisURL == "" {
		for _, f := range []struct {
			name string
			set  bool
		}{{"webhook-url", c.WebhookURL != ""}, {"join-leave-namespaces", len(c.JoinLeaveNamespaces) > 0}} {
			if f.set {
				p = append(p, fmt.Sprintf("--%s needs --redis-url: lifecycle events are computed in Redis", f.name))
			}
		}
	}
	if c.WebhookURL != "" {
		if u, err := url.Parse(c.WebhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p = append(p, "--webhook-url must be an http:// or https:// URL")
		}
		if _, err := WebhookKey(c.WebhookSecret); err != nil {
			p = append(p, "--webhook-secret: "+err.Error())
		}
		if c.WebhookRetryWindow < time.Second {
			p = append(p, fmt.Sprintf("--webhook-retry-window must be at least 1s, got %s", c.WebhookRetryWindow))
		}
	}
	if c.VacatedDelay < 0 || c.VacatedDelay > time.Hour {
		p = append(p, fmt.Sprintf("--vacated-delay must be between 0s and 1h, got %s", c.VacatedDelay))
	}
	return p
}

// WebhookKey decodes a Standard Webhooks secret, whsec_<base64>, into the
// HMAC key.
func WebhookKey(secret string) ([]byte, error) {
	b64, ok := strings.CutPrefix(secret, "whsec_")
	if !ok {
		return nil, fmt.Errorf("must be whsec_<base64>")
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(key) < 16 {
		return nil, fmt.Errorf("must be whsec_ and the base64 of at least 16 bytes")
	}
	return key, nil
}
