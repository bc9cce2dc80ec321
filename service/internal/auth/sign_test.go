package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSignHS256RoundTrip(t *testing.T) {
	v := mustNew(t, Config{Secret: secret, Audience: "wsgateway", Issuer: "https://auth.example"})
	plain := mustNew(t, Config{Secret: secret})
	tests := []struct {
		name string
		v    *Verifier
		spec TokenSpec
		want *Claims
	}{
		{"user only, never expires", plain, TokenSpec{User: "alice"}, &Claims{User: "alice"}},
		{"permissions", plain,
			TokenSpec{User: "alice", Subscribe: []string{"chat:*"}, Publish: []string{"chat:lobby", "user:*"}},
			&Claims{User: "alice", Subscribe: []string{"chat:*"}, Publish: []string{"chat:lobby", "user:*"}}},
		{"audience and issuer", v,
			TokenSpec{User: "bob", Audience: "wsgateway", Issuer: "https://auth.example"}, &Claims{User: "bob"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, err := SignHS256(secret, tt.spec)
			if err != nil {
				t.Fatalf("SignHS256: %v", err)
			}
			got, err := tt.v.Verify(token)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(Claims{})); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSignHS256TTL(t *testing.T) {
	before := time.Now().Truncate(time.Second)
	token, err := SignHS256(secret, TokenSpec{User: "alice", TTL: time.Hour})
	if err != nil {
		t.Fatalf("SignHS256: %v", err)
	}
	after := time.Now()
	got, err := mustNew(t, Config{Secret: secret}).Verify(token)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got.ExpiresAt.Before(before.Add(time.Hour)) || got.ExpiresAt.After(after.Add(time.Hour)) {
		t.Errorf("ExpiresAt = %v, want between %v and %v", got.ExpiresAt, before.Add(time.Hour), after.Add(time.Hour))
	}
}

func TestSignHS256Errors(t *testing.T) {
	tests := []struct {
		name    string
		secret  []byte
		spec    TokenSpec
		wantErr string
	}{
		{"no secret", nil, TokenSpec{User: "alice"}, "empty secret"},
		{"no user", secret, TokenSpec{Subscribe: []string{"*"}}, "empty user"},
		{"negative TTL", secret, TokenSpec{User: "alice", TTL: -time.Second}, "negative TTL"},
		{"user a verifier would refuse", secret, TokenSpec{User: "alice smith"}, "token sub is not"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, err := SignHS256(tt.secret, tt.spec)
			if err == nil {
				t.Fatalf("SignHS256 = %q, want an error", token)
			}
			if !strings.HasPrefix(err.Error(), "sign token: ") || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("SignHS256 error = %q, want \"sign token: ...\" containing %q", err, tt.wantErr)
			}
		})
	}
}
