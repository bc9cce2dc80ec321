package config

import (
	"encoding/base64"
	"flag"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// implyEvents turns lifecycle events on when a setting that only they use
// (--webhook-url, --join-leave-namespaces) is given and --events is not, on
// the command line or in WSG_EVENTS: asking for a webhook is asking for the
// events it carries. An explicit --events=false stays false, and Validate
// refuses it next to those settings rather than guess which one was meant.
func (c *Config) implyEvents(fs *flag.FlagSet) {
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "events" })
	if !explicit && c.eventsOnly() != nil {
		c.Events = true
	}
}

// eventsOnly names the settings given that only lifecycle events use.
func (c Config) eventsOnly() []string {
	var names []string
	if c.WebhookURL != "" {
		names = append(names, "--webhook-url")
	}
	if len(c.JoinLeaveNamespaces) > 0 {
		names = append(names, "--join-leave-namespaces")
	}
	return names
}

// checkEvents checks the lifecycle events' settings: they need Redis (the
// in-process broker emits no events), the settings that only they use need
// them on, a webhook needs a well-formed URL and secret, and the delays are
// bounded.
func (c Config) checkEvents(p []string) []string {
	only := c.eventsOnly()
	if c.RedisURL == "" {
		// Name what the operator typed: --events itself only when no
		// setting implied it.
		if c.Events && only == nil {
			only = []string{"--events"}
		}
		for _, name := range only {
			p = append(p, name+" needs --redis-url: lifecycle events are computed in Redis")
		}
	}
	if !c.Events {
		for _, name := range only {
			p = append(p, name+" needs lifecycle events, which --events=false turns off")
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
