package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TokenSpec describes a token for SignHS256.
type TokenSpec struct {
	// User becomes sub; it is required.
	User string
	// Subscribe and Publish become the claims of those names; nil or empty
	// omits the claim, which grants nothing.
	Subscribe, Publish []string
	// Send becomes the send claim (inbox topic patterns), likewise.
	Send []string
	// TTL sets exp to now+TTL; zero means no exp, a token that never expires.
	TTL time.Duration
	// Audience and Issuer, when non-empty, become aud and iss.
	Audience, Issuer string
}

// SignHS256 returns a token for spec signed with secret, issued now. It is
// for tests, tools and the `wsgateway token` command; real deployments
// usually mint tokens in their own backend.
func SignHS256(secret []byte, spec TokenSpec) (string, error) {
	switch {
	case len(secret) == 0:
		return "", errors.New("sign token: empty secret")
	case spec.User == "":
		return "", errors.New("sign token: empty user")
	case !validSubject(spec.User):
		return "", fmt.Errorf("sign token: user %q: %w", spec.User, ErrInvalidSubject)
	case spec.TTL < 0:
		return "", fmt.Errorf("sign token: negative TTL %v", spec.TTL)
	}
	now := time.Now()
	tc := tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:  spec.User,
			Issuer:   spec.Issuer,
			IssuedAt: jwt.NewNumericDate(now),
		},
		Subscribe: spec.Subscribe,
		Publish:   spec.Publish,
		Send:      spec.Send,
	}
	if spec.Audience != "" {
		tc.Audience = jwt.ClaimStrings{spec.Audience}
	}
	if spec.TTL > 0 {
		tc.ExpiresAt = jwt.NewNumericDate(now.Add(spec.TTL))
	}
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, tc).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return token, nil
}
