package config

import (
	"strings"
	"testing"
)

func TestEventsSettings(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	tests := []struct {
		name string
		args []string
		want string // a problem Load must report; "" for none
	}{
		{"defaults", nil, ""},
		{"events with redis", []string{"--redis-url", "redis://h:6379", "--events"}, ""},
		{"events needs redis", []string{"--events"}, "--events needs --redis-url"},
		{"webhook with events explicitly off", []string{"--redis-url", "redis://h:6379", "--events=false", "--webhook-url", "http://h/e", "--webhook-secret", secret}, "--webhook-url needs lifecycle events, which --events=false turns off"},
		{"join-leave with events explicitly off", []string{"--redis-url", "redis://h:6379", "--events=false", "--join-leave-namespaces", "chat"}, "--join-leave-namespaces needs lifecycle events, which --events=false turns off"},
		{"webhook with redis", []string{"--redis-url", "redis://h:6379", "--webhook-url", "http://h/e", "--webhook-secret", secret}, ""},
		{"webhook needs redis", []string{"--webhook-url", "http://h/e", "--webhook-secret", secret}, "--webhook-url needs --redis-url"},
		{"join-leave needs redis", []string{"--join-leave-namespaces", "chat"}, "--join-leave-namespaces needs --redis-url"},
		{"webhook needs a secret", []string{"--redis-url", "redis://h:6379", "--webhook-url", "http://h/e"}, "--webhook-secret: must be whsec_"},
		{"secret is base64", []string{"--redis-url", "redis://h:6379", "--webhook-url", "http://h/e", "--webhook-secret", "whsec_!!"}, "--webhook-secret: must be whsec_ and the base64"},
		{"webhook url scheme", []string{"--redis-url", "redis://h:6379", "--webhook-url", "ftp://h/e", "--webhook-secret", secret}, "--webhook-url must be an http"},
		{"short retry window", []string{"--redis-url", "redis://h:6379", "--webhook-url", "http://h/e", "--webhook-secret", secret, "--webhook-retry-window", "10ms"}, "--webhook-retry-window must be at least 1s"},
		{"negative vacated delay", []string{"--vacated-delay", "-1s"}, "--vacated-delay must be between 0s and 1h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(append([]string{"--dev"}, tt.args...), noEnv, "host-a")
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Load: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Load: %v, want a problem containing %q", err, tt.want)
			}
		})
	}
}

// TestEventsAreOptIn: lifecycle events are off unless --events (or
// WSG_EVENTS) turns them on, or a setting that only they use implies them.
func TestEventsAreOptIn(t *testing.T) {
	const redis = "redis://h:6379"
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want bool
	}{
		{"redis alone", []string{"--redis-url", redis}, nil, false},
		{"--events", []string{"--redis-url", redis, "--events"}, nil, true},
		{"WSG_EVENTS", []string{"--redis-url", redis}, map[string]string{"WSG_EVENTS": "true"}, true},
		{"--events=false wins over WSG_EVENTS", []string{"--redis-url", redis, "--events=false"}, map[string]string{"WSG_EVENTS": "true"}, false},
		{"implied by --join-leave-namespaces", []string{"--redis-url", redis, "--join-leave-namespaces", "chat"}, nil, true},
		{"implied by WSG_WEBHOOK_URL", []string{"--redis-url", redis},
			map[string]string{"WSG_WEBHOOK_URL": "http://h/e", "WSG_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(append([]string{"--dev"}, tt.args...), envOf(tt.env), "host-a")
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if c.Events != tt.want {
				t.Errorf("Events = %v, want %v", c.Events, tt.want)
			}
		})
	}
}

func TestWebhookSecretIsRedacted(t *testing.T) {
	c := Default()
	c.WebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	if got := c.Redacted()["webhook-secret"]; got != "<set>" {
		t.Errorf("webhook-secret logs as %q, want <set>", got)
	}
}
