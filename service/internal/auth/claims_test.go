package auth

import "testing"

func TestCanSubscribe(t *testing.T) {
	alice := &Claims{User: "alice", Subscribe: []string{"chat:*", "news"}}
	greedy := &Claims{User: "alice", Subscribe: []string{"*", "user:*", "user:bob"}}
	tests := []struct {
		name    string
		claims  *Claims
		channel string
		want    bool
	}{
		{"pattern matches", alice, "chat:lobby", true},
		{"literal pattern", alice, "news", true},
		{"no pattern matches", alice, "sports", false},
		{"own personal channel without any pattern", &Claims{User: "alice"}, "user:alice", true},
		{"own personal channel with unrelated patterns", alice, "user:alice", true},
		{"another's personal channel despite *", greedy, "user:bob", false},
		{"another's personal channel, id extending own", greedy, "user:alice2", false},
		{"another's personal channel, id with colon", greedy, "user:alice:x", false},
		{"personal channel with empty id", greedy, "user:", false},
		{"user with colon owns its channel", &Claims{User: "alice:x"}, "user:alice:x", true},
		{"non-personal channel resembling one", &Claims{User: "alice"}, "users:alice", false},
		{"no claims, no permission", &Claims{User: "alice"}, "chat:lobby", false},
		{"anonymous: any channel", Anonymous(), "chat:lobby", true},
		{"anonymous: no personal channel", Anonymous(), "user:alice", false},
		{"anonymous: not the empty user's channel", Anonymous(), "user:", false},
		{"nil claims", nil, "chat:lobby", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.claims.CanSubscribe(tt.channel); got != tt.want {
				t.Errorf("CanSubscribe(%q) = %v, want %v", tt.channel, got, tt.want)
			}
		})
	}
}

func TestCanPublish(t *testing.T) {
	alice := &Claims{User: "alice", Subscribe: []string{"*"}, Publish: []string{"chat:*", "user:*"}}
	tests := []struct {
		name    string
		claims  *Claims
		channel string
		want    bool
	}{
		{"pattern matches", alice, "chat:lobby", true},
		{"subscribe patterns grant no publish", alice, "news", false},
		{"another's personal channel when a pattern allows", alice, "user:bob", true},
		{"another's personal channel without a pattern", &Claims{User: "alice", Publish: []string{"chat:*"}}, "user:bob", false},
		{"own personal channel needs a pattern too", &Claims{User: "alice"}, "user:alice", false},
		{"anonymous: any channel", Anonymous(), "chat:lobby", true},
		{"anonymous: personal channel", Anonymous(), "user:bob", true},
		{"nil claims", nil, "chat:lobby", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.claims.CanPublish(tt.channel); got != tt.want {
				t.Errorf("CanPublish(%q) = %v, want %v", tt.channel, got, tt.want)
			}
		})
	}
}

func TestCanSend(t *testing.T) {
	tests := []struct {
		name   string
		claims *Claims
		topic  string
		want   bool
	}{
		{"exact topic", &Claims{User: "a", Send: []string{"orders"}}, "orders", true},
		{"pattern", &Claims{User: "a", Send: []string{"jobs.*"}}, "jobs.resize", true},
		{"no match", &Claims{User: "a", Send: []string{"orders"}}, "billing", false},
		{"publish patterns do not grant send", &Claims{User: "a", Publish: []string{"*"}}, "orders", false},
		{"no claim", &Claims{User: "a"}, "orders", false},
		{"dev mode", Anonymous(), "orders", true},
		{"nil claims", nil, "orders", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.claims.CanSend(tt.topic); got != tt.want {
				t.Errorf("CanSend(%q) = %v, want %v", tt.topic, got, tt.want)
			}
		})
	}
}
