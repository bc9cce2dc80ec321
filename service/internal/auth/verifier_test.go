package auth

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func TestVerifyAccepts(t *testing.T) {
	k := newTestKeys(t)
	hs := mustNew(t, Config{Secret: secret})
	now := time.Now().Truncate(time.Second)
	full := func() jwt.MapClaims {
		return jwt.MapClaims{
			"sub": "alice", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(),
			"subscribe": []string{"chat:*", "news"}, "publish": []string{"chat:*"}, "send": []string{"orders", "jobs.*"},
		}
	}
	wantFull := &Claims{
		User: "alice", ExpiresAt: now.Add(time.Hour),
		Subscribe: []string{"chat:*", "news"}, Publish: []string{"chat:*"}, Send: []string{"orders", "jobs.*"},
	}
	tests := []struct {
		name  string
		v     *Verifier
		token string
		want  *Claims
	}{
		{"HS256", hs, sign(t, jwt.SigningMethodHS256, secret, full()), wantFull},
		{"RS256", mustNew(t, Config{PublicKeyPEM: publicPEM(t, &k.rsa.PublicKey)}),
			sign(t, jwt.SigningMethodRS256, k.rsa, full()), wantFull},
		{"ES256", mustNew(t, Config{PublicKeyPEM: publicPEM(t, &k.p256.PublicKey)}),
			sign(t, jwt.SigningMethodES256, k.p256, full()), wantFull},
		{"ES384", mustNew(t, Config{PublicKeyPEM: publicPEM(t, &k.p384.PublicKey)}),
			sign(t, jwt.SigningMethodES384, k.p384, full()), wantFull},
		{"EdDSA", mustNew(t, Config{PublicKeyPEM: publicPEM(t, k.ed.Public())}),
			sign(t, jwt.SigningMethodEdDSA, k.ed, full()), wantFull},
		{"no exp never expires, no permission claims grant nothing", hs,
			sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "bob"}), &Claims{User: "bob"}},
		{"empty permission arrays", hs,
			sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "bob", "subscribe": []string{}, "publish": nil}),
			&Claims{User: "bob", Subscribe: []string{}}},
		{"audience among several, issuer equal",
			mustNew(t, Config{Secret: secret, Audience: "wsgateway", Issuer: "https://auth.example"}),
			sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{
				"sub": "carol", "aud": []string{"billing", "wsgateway"}, "iss": "https://auth.example"}),
			&Claims{User: "carol"}},
		{"audience as a single string", mustNew(t, Config{Secret: secret, Audience: "wsgateway"}),
			sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "carol", "aud": "wsgateway"}),
			&Claims{User: "carol"}},
		{"expired and not yet valid within leeway", mustNew(t, Config{Secret: secret, Leeway: time.Minute}),
			sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "dan",
				"exp": now.Add(-30 * time.Second).Unix(), "nbf": now.Add(30 * time.Second).Unix(),
				"iat": now.Add(30 * time.Second).Unix()}),
			&Claims{User: "dan", ExpiresAt: now.Add(-30 * time.Second)}},
		{"issuer's clock a second ahead, default leeway", mustNew(t, Config{Secret: secret, Leeway: 5 * time.Second}),
			sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "erin",
				"nbf": now.Add(time.Second).Unix(), "iat": now.Add(time.Second).Unix()}),
			&Claims{User: "erin"}},
		{"sub with every allowed punctuation", hs,
			sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "tenant/a:b.c-d_e@example.com=1"}),
			&Claims{User: "tenant/a:b.c-d_e@example.com=1"}},
		{"longest sub: user:<sub> is 255 bytes", hs,
			sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": strings.Repeat("u", 250)}),
			&Claims{User: strings.Repeat("u", 250)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.v.Verify(tt.token)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(Claims{})); diff != "" {
				t.Errorf("Verify claims (-want +got):\n%s", diff)
			}
		})
	}
}

// rejectCase is a token that Verify must refuse with an error wrapping wantErr.
type rejectCase struct {
	name    string
	v       *Verifier
	token   string
	wantErr error
}

func runRejects(t *testing.T, tests []rejectCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.v.Verify(tt.token)
			if err == nil {
				t.Fatalf("Verify accepted the token: %+v", got)
			}
			if got != nil {
				t.Errorf("Verify returned claims %+v with error %v", got, err)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Verify error = %v, want one wrapping %v", err, tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "verify token: ") {
				t.Errorf("Verify error %q lacks the %q context", err, "verify token: ")
			}
		})
	}
}

func TestVerifyRejectsTimes(t *testing.T) {
	hs := mustNew(t, Config{Secret: secret})
	lenient := mustNew(t, Config{Secret: secret, Leeway: time.Minute})
	now := time.Now()
	at := func(claim string, d time.Duration) string {
		return sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "alice", claim: now.Add(d).Unix()})
	}
	runRejects(t, []rejectCase{
		{"expired", hs, at("exp", -time.Hour), jwt.ErrTokenExpired},
		{"expired beyond leeway", lenient, at("exp", -2*time.Minute), jwt.ErrTokenExpired},
		{"not valid yet", hs, at("nbf", time.Hour), jwt.ErrTokenNotValidYet},
		{"not valid yet beyond leeway", lenient, at("nbf", 2*time.Minute), jwt.ErrTokenNotValidYet},
		{"issued in the future", hs, at("iat", time.Hour), jwt.ErrTokenUsedBeforeIssued},
		{"issued in the future beyond leeway", lenient, at("iat", 2*time.Minute), jwt.ErrTokenUsedBeforeIssued},
	})
}

func TestVerifyRejectsSignatures(t *testing.T) {
	k := newTestKeys(t)
	rsaPEM := publicPEM(t, &k.rsa.PublicKey)
	hs := mustNew(t, Config{Secret: secret})
	rs := mustNew(t, Config{PublicKeyPEM: rsaPEM})
	es := mustNew(t, Config{PublicKeyPEM: publicPEM(t, &k.p256.PublicKey)})
	claims := jwt.MapClaims{"sub": "alice", "subscribe": []string{"*"}}
	hsToken := sign(t, jwt.SigningMethodHS256, secret, claims)
	rsToken := sign(t, jwt.SigningMethodRS256, k.rsa, claims)
	esToken := sign(t, jwt.SigningMethodES256, k.p256, claims)
	none := handmade(t, map[string]any{"alg": "none", "typ": "JWT"}, claims, "")
	runRejects(t, []rejectCase{
		{"HS256 wrong secret", hs, sign(t, jwt.SigningMethodHS256, []byte("not the secret"), claims), jwt.ErrTokenSignatureInvalid},
		{"RS256 other key", rs, sign(t, jwt.SigningMethodRS256, k.rsaOther, claims), jwt.ErrTokenSignatureInvalid},
		{"ES256 other key", es, sign(t, jwt.SigningMethodES256, newECKey(t, k.p256.Curve), claims), jwt.ErrTokenSignatureInvalid},
		{"RS256 payload swapped", rs, swapPayload(t, rsToken, jwt.MapClaims{"sub": "admin", "subscribe": []string{"*"}}), jwt.ErrTokenSignatureInvalid},
		{"HS256 payload swapped", hs, swapPayload(t, hsToken, jwt.MapClaims{"sub": "admin", "subscribe": []string{"*"}}), jwt.ErrTokenSignatureInvalid},
		{"signature stripped", rs, rsToken[:strings.LastIndex(rsToken, ".")+1], jwt.ErrTokenSignatureInvalid},
		{"HS256 token to RS256 verifier", rs, hsToken, jwt.ErrTokenSignatureInvalid},
		{"RS256 token to HS256 verifier", hs, rsToken, jwt.ErrTokenSignatureInvalid},
		{"ES256 token to RS256 verifier", rs, esToken, jwt.ErrTokenSignatureInvalid},
		{"RS256 token to ES256 verifier", es, rsToken, jwt.ErrTokenSignatureInvalid},
		// The right key under another algorithm of its family: only the pin refuses these.
		{"RS512 with the right key", rs, sign(t, jwt.SigningMethodRS512, k.rsa, claims), jwt.ErrTokenSignatureInvalid},
		{"PS256 with the right key", rs, sign(t, jwt.SigningMethodPS256, k.rsa, claims), jwt.ErrTokenSignatureInvalid},
		{"HS512 with the right secret", hs, sign(t, jwt.SigningMethodHS512, secret, claims), jwt.ErrTokenSignatureInvalid},
		{"HS256 signed with the RSA public key PEM", rs, sign(t, jwt.SigningMethodHS256, rsaPEM, claims), jwt.ErrTokenSignatureInvalid},
		{"alg none to HS256 verifier", hs, none, jwt.ErrTokenSignatureInvalid},
		{"alg none to RS256 verifier", rs, none, jwt.ErrTokenSignatureInvalid},
		{"alg none with a signature", hs, none + "c2ln", jwt.ErrTokenSignatureInvalid},
		{"alg NONE", hs, handmade(t, map[string]any{"alg": "NONE"}, claims, ""), jwt.ErrTokenUnverifiable},
		{"no alg", hs, handmade(t, map[string]any{"typ": "JWT"}, claims, ""), jwt.ErrTokenUnverifiable},
	})
}

// swapPayload replaces token's claims segment, keeping its header and signature.
func swapPayload(t *testing.T, token string, claims jwt.MapClaims) string {
	t.Helper()
	parts := strings.Split(token, ".")
	parts[1] = segment(t, claims)
	return strings.Join(parts, ".")
}

func TestVerifyRejectsClaims(t *testing.T) {
	hs := mustNew(t, Config{Secret: secret})
	strict := mustNew(t, Config{Secret: secret, Audience: "wsgateway", Issuer: "https://auth.example"})
	tok := func(c jwt.MapClaims) string { return sign(t, jwt.SigningMethodHS256, secret, c) }
	good := jwt.MapClaims{"sub": "alice", "aud": "wsgateway", "iss": "https://auth.example"}
	with := func(key string, val any) string {
		c := jwt.MapClaims{}
		for k, v := range good {
			c[k] = v
		}
		if val == nil {
			delete(c, key)
		} else {
			c[key] = val
		}
		return tok(c)
	}
	runRejects(t, []rejectCase{
		{"missing sub", hs, tok(jwt.MapClaims{"subscribe": []string{"*"}}), ErrMissingSubject},
		{"empty sub", hs, tok(jwt.MapClaims{"sub": ""}), ErrMissingSubject},
		{"wrong aud", strict, with("aud", "other"), jwt.ErrTokenInvalidAudience},
		{"missing aud", strict, with("aud", nil), jwt.ErrTokenRequiredClaimMissing},
		{"wrong iss", strict, with("iss", "https://evil.example"), jwt.ErrTokenInvalidIssuer},
		{"missing iss", strict, with("iss", nil), jwt.ErrTokenRequiredClaimMissing},
		{"sub not a string", hs, tok(jwt.MapClaims{"sub": 42}), jwt.ErrTokenMalformed},
		{"sub with a space", hs, tok(jwt.MapClaims{"sub": "alice smith"}), ErrInvalidSubject},
		{"sub with a control character", hs, tok(jwt.MapClaims{"sub": "alice\x00"}), ErrInvalidSubject},
		{"sub with a newline", hs, tok(jwt.MapClaims{"sub": "alice\nbob"}), ErrInvalidSubject},
		{"sub with a bidi override", hs, tok(jwt.MapClaims{"sub": "alice\u202egnp.exe"}), ErrInvalidSubject},
		{"sub with a look-alike letter", hs, tok(jwt.MapClaims{"sub": "\u0430lice"}), ErrInvalidSubject},
		{"sub with a pattern star", hs, tok(jwt.MapClaims{"sub": "*"}), ErrInvalidSubject},
		{"sub too long for user:<sub>", hs, tok(jwt.MapClaims{"sub": strings.Repeat("u", 251)}), ErrInvalidSubject},
		{"subscribe a string", hs, tok(jwt.MapClaims{"sub": "a", "subscribe": "chat:*"}), jwt.ErrTokenMalformed},
		{"subscribe an object", hs, tok(jwt.MapClaims{"sub": "a", "subscribe": map[string]any{"chat:*": true}}), jwt.ErrTokenMalformed},
		{"publish of numbers", hs, tok(jwt.MapClaims{"sub": "a", "publish": []int{1, 2}}), jwt.ErrTokenMalformed},
		{"exp a string", hs, tok(jwt.MapClaims{"sub": "a", "exp": "tomorrow"}), jwt.ErrTokenMalformed},
	})
}

func TestVerifyRejectsMalformed(t *testing.T) {
	hs := mustNew(t, Config{Secret: secret})
	valid := sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "alice"})
	runRejects(t, []rejectCase{
		{"empty", hs, "", jwt.ErrTokenMalformed},
		{"one segment", hs, "abc", jwt.ErrTokenMalformed},
		{"two segments", hs, "abc.def", jwt.ErrTokenMalformed},
		{"four segments", hs, valid + ".extra", jwt.ErrTokenMalformed},
		{"bearer prefix left on", hs, "Bearer " + valid, jwt.ErrTokenMalformed},
		{"header not base64", hs, "!!!." + strings.SplitN(valid, ".", 2)[1], jwt.ErrTokenMalformed},
		{"header not JSON", hs, "bm90IGpzb24." + strings.SplitN(valid, ".", 2)[1], jwt.ErrTokenMalformed},
		{"claims not JSON", hs, segment(t, map[string]any{"alg": "HS256"}) + ".bm90IGpzb24.x", jwt.ErrTokenMalformed},
	})
}

func TestVerifyRejectsCriticalHeader(t *testing.T) {
	hs := mustNew(t, Config{Secret: secret})
	withCrit := func(crit any) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "alice"})
		tok.Header["crit"] = crit
		if m, ok := crit.([]string); ok {
			for _, name := range m {
				tok.Header[name] = true // RFC 7515: a listed extension is present in the header
			}
		}
		s, err := tok.SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	runRejects(t, []rejectCase{
		{"unknown extension", hs, withCrit([]string{"urn:example:ext"}), ErrCriticalHeader},
		{"b64 (RFC 7797), not supported", hs, withCrit([]string{"b64"}), ErrCriticalHeader},
		{"empty list, invalid per RFC 7515", hs, withCrit([]string{}), ErrCriticalHeader},
		{"not a list", hs, withCrit("exp"), ErrCriticalHeader},
	})
}
