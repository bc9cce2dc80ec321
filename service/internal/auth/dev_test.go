package auth

import (
	"testing"
	"time"
)

// TestDevVerifier: in --dev without a key every token, none or a forged one,
// is the anonymous user with every permission but no personal channel.
func TestDevVerifier(t *testing.T) {
	forged, err := SignHS256([]byte("another key of thirty-two bytes!"), TokenSpec{User: "alice", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, token string }{
		{"no token", ""},
		{"not a token", "garbage"},
		{"a token signed with another key", forged},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := DevVerifier{}.Verify(tt.token)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if c.User != "" || !c.ExpiresAt.IsZero() {
				t.Errorf("claims of user %q expiring at %v, want anonymous without expiry", c.User, c.ExpiresAt)
			}
			if !c.CanSubscribe("chat:lobby") || !c.CanPublish("chat:lobby") || c.CanSubscribe("user:alice") {
				t.Errorf("permissions: subscribe chat %v, publish chat %v, subscribe user:alice %v; want true, true, false",
					c.CanSubscribe("chat:lobby"), c.CanPublish("chat:lobby"), c.CanSubscribe("user:alice"))
			}
		})
	}
}
