package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ErrMissingSubject means a token carries no sub claim, so it names no user.
var ErrMissingSubject = errors.New("token has no sub claim")

// Config selects the one accepted algorithm: HS256 when Secret is set;
// RS256, ES256, ES384, ES512 or EdDSA by the type of the PEM public key.
// Exactly one of Secret and PublicKeyPEM must be set.
type Config struct {
	// Secret is the HS256 key.
	Secret []byte
	// PublicKeyPEM is a PEM public key ("PUBLIC KEY", "RSA PUBLIC KEY" or
	// "CERTIFICATE" block): RSA of at least 2048 bits means RS256; ECDSA
	// P-256, P-384, P-521 mean ES256, ES384, ES512; Ed25519 means EdDSA.
	PublicKeyPEM []byte
	// Audience, when non-empty, must be among the token's aud.
	Audience string
	// Issuer, when non-empty, must equal the token's iss.
	Issuer string
	// Leeway is the clock skew allowed when checking exp, nbf and iat.
	Leeway time.Duration
}

// Verifier checks tokens against one key. It holds no mutable state and is
// safe for concurrent use.
type Verifier struct {
	alg    string
	key    any // []byte for HS256, else the crypto public key
	parser *jwt.Parser
}

// New builds a Verifier from cfg. It fails when both keys or neither are
// given, when the PEM holds no supported public key, or when Leeway is
// negative.
func New(cfg Config) (*Verifier, error) {
	if cfg.Leeway < 0 {
		return nil, fmt.Errorf("auth: negative leeway %v", cfg.Leeway)
	}
	v := &Verifier{}
	switch {
	case len(cfg.Secret) > 0 && len(cfg.PublicKeyPEM) > 0:
		return nil, errors.New("auth: both a secret and a public key are configured; give exactly one")
	case len(cfg.Secret) > 0:
		v.alg, v.key = jwt.SigningMethodHS256.Alg(), cfg.Secret
	case len(cfg.PublicKeyPEM) > 0:
		alg, key, err := parsePublicKey(cfg.PublicKeyPEM)
		if err != nil {
			return nil, fmt.Errorf("auth: public key: %w", err)
		}
		v.alg, v.key = alg, key
	default:
		return nil, errors.New("auth: no secret or public key configured")
	}
	opts := []jwt.ParserOption{
		// Pinning the one algorithm is what stops "none" and the HS256
		// signed-with-the-public-key confusion attack.
		jwt.WithValidMethods([]string{v.alg}),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithIssuedAt(),
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// Algorithm returns the JWS algorithm v accepts, such as "HS256" or "RS256".
func (v *Verifier) Algorithm() string {
	return v.alg
}

// Verify checks token's signature and its exp, nbf, iat, aud and iss claims,
// and returns the Claims it grants, allowing cfg.Leeway of clock skew on
// each of exp, nbf and iat. A token without exp never expires; one without
// sub or with an invalid one (see validSubject), with a crit header, or with
// subscribe, publish or send claims that are not arrays of strings, is invalid.
// Errors wrap the jwt package's sentinels (such as jwt.ErrTokenExpired),
// ErrMissingSubject, ErrInvalidSubject or ErrCriticalHeader.
func (v *Verifier) Verify(token string) (*Claims, error) {
	var tc tokenClaims
	if _, err := v.parser.ParseWithClaims(token, &tc, v.keyFor); err != nil {
		return nil, fmt.Errorf("verify token: %w", err)
	}
	c := &Claims{
		User:      tc.Subject,
		Subscribe: tc.Subscribe,
		Publish:   tc.Publish,
		Send:      tc.Send,
	}
	if tc.ExpiresAt != nil {
		c.ExpiresAt = tc.ExpiresAt.Time
	}
	return c, nil
}

// keyFor is the jwt.Keyfunc. The parser has already checked the token's alg
// against v.alg, so the key always fits the method. It refuses a crit
// header before the signature is checked.
func (v *Verifier) keyFor(t *jwt.Token) (any, error) {
	if err := checkCrit(t); err != nil {
		return nil, err
	}
	return v.key, nil
}

// tokenClaims is the JSON payload of a wsgateway token.
type tokenClaims struct {
	jwt.RegisteredClaims
	Subscribe []string `json:"subscribe,omitempty"`
	Publish   []string `json:"publish,omitempty"`
	Send      []string `json:"send,omitempty"`
}

// Validate is called by the jwt parser after the registered claims pass.
func (tc tokenClaims) Validate() error {
	if tc.Subject == "" {
		return ErrMissingSubject
	}
	if !validSubject(tc.Subject) {
		return ErrInvalidSubject
	}
	return nil
}
