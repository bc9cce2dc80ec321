package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// signHS256 signs arbitrary claims with secret, for tokens SignHS256 cannot
// make (expired, not yet valid, without sub).
func signHS256(t *testing.T, secret string, claims jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// unsignedToken builds an alg "none" token by hand: the jwt package refuses
// to produce one without ceremony, and an attacker would not use it anyway.
func unsignedToken(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc([]byte(claims)) + "."
}

func TestConnectWithToken(t *testing.T) {
	t.Parallel()
	g := startNode(t, "--jwt-secret", testSecret)
	tok := token(t, "alice", time.Hour, nil, nil)
	cases := []struct {
		name   string
		header http.Header
		cmd    protocol.Command
	}{
		{"token in connect", nil, protocol.Command{Op: protocol.OpConnect, Token: tok}},
		{"bearer header on the upgrade", http.Header{"Authorization": {"Bearer " + tok}}, protocol.Command{Op: protocol.OpConnect}},
		{"token in connect wins over a bad header", http.Header{"Authorization": {"Bearer not-a-token"}},
			protocol.Command{Op: protocol.OpConnect, Token: tok}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := dial(t, g, tc.header)
			res := resultOf[protocol.ConnectResult](t, w.call(tc.cmd))
			if res.User != "alice" || res.Node != "test-node" || res.Client == "" || res.PingInterval != 25 {
				t.Fatalf("connect result %+v, want user alice on test-node", res)
			}
			w.result(w.call(protocol.Command{Op: protocol.OpPing}))
		})
	}
}

func TestConnectRefusesBadTokens(t *testing.T) {
	t.Parallel()
	g := startNode(t, "--jwt-secret", testSecret)
	now := time.Now()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rs256, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"sub": "alice", "exp": now.Add(time.Hour).Unix(),
	}).SignedString(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		token  string // "" sends connect without a token
		header http.Header
	}{
		{name: "missing"},
		{name: "expired", token: signHS256(t, testSecret, jwt.MapClaims{"sub": "alice", "exp": now.Add(-time.Minute).Unix()})},
		{name: "not yet valid", token: signHS256(t, testSecret, jwt.MapClaims{
			"sub": "alice", "nbf": now.Add(time.Hour).Unix(), "exp": now.Add(2 * time.Hour).Unix()})},
		{name: "forged", token: signHS256(t, "another-secret-0123456789abcdef", jwt.MapClaims{"sub": "alice"})},
		{name: "wrong algorithm RS256", token: rs256},
		{name: "alg none", token: unsignedToken(`{"sub":"alice","subscribe":["*"]}`)},
		{name: "no sub", token: signHS256(t, testSecret, jwt.MapClaims{"exp": now.Add(time.Hour).Unix()})},
		{name: "garbage", token: "not.a.token"},
		{name: "sub with a bidi override", token: signHS256(t, testSecret, jwt.MapClaims{"sub": "bob\u202egnp.exe"})},
		{name: "sub with a space", token: signHS256(t, testSecret, jwt.MapClaims{"sub": "bob smith"})},
		{name: "crit header naming an unknown extension", token: critToken(t, testSecret, "urn:example:must-check")},
		{name: "expired bearer header", header: http.Header{"Authorization": {"Bearer " +
			signHS256(t, testSecret, jwt.MapClaims{"sub": "alice", "exp": now.Add(-time.Minute).Unix()})}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := dial(t, g, tc.header)
			if m := w.call(protocol.Command{Op: protocol.OpConnect, Token: tc.token}); errCode(m) != protocol.CodeUnauthorized {
				t.Fatalf("connect reply %s, want error unauthorized", show(m))
			}
			if got := w.closed(5 * time.Second); got != 4001 {
				t.Fatalf("close code %d, want 4001", got)
			}
		})
	}
}

// TestTokenExpiry checks what a real node adds to session's TestTokenExpiry
// (the 4001 close at the expiry, a refresh moving it): a refused refresh,
// whatever makes the token bad, takes neither the permissions nor the
// expiry from it.
func TestTokenExpiry(t *testing.T) {
	t.Parallel()
	g := startNode(t, "--jwt-secret", testSecret)
	// JWT exp has a resolution of one second, so a 2 s token expires
	// within 1-2 s of signing; reads below allow 5 s.

	t.Run("refresh with another sub changes nothing", func(t *testing.T) {
		t.Parallel()
		w := connected(t, g, token(t, "alice", 2*time.Second, []string{"chat:*"}, nil))
		m := w.call(protocol.Command{Op: protocol.OpRefresh, Token: token(t, "mallory", time.Hour, []string{"*"}, nil)})
		if errCode(m) != "unauthorized" {
			t.Fatalf("refresh reply %s, want error unauthorized", show(m))
		}
		// Neither the permissions nor the expiry were taken from it.
		if m := w.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "news:x"}); errCode(m) != "permission_denied" {
			t.Fatalf("subscribe news:x after the refused refresh: %s, want permission_denied", show(m))
		}
		if got := w.closed(5 * time.Second); got != 4001 {
			t.Fatalf("close code %d, want 4001 at the first token's expiry", got)
		}
	})

	t.Run("refresh with an invalid token changes nothing", func(t *testing.T) {
		t.Parallel()
		w := connected(t, g, token(t, "alice", 2*time.Second, nil, nil))
		for _, bad := range []string{
			"not.a.token",
			signHS256(t, "another-secret-0123456789abcdef", jwt.MapClaims{"sub": "alice"}),
			signHS256(t, testSecret, jwt.MapClaims{"sub": "alice", "exp": time.Now().Add(-time.Minute).Unix()}),
			unsignedToken(`{"sub":"alice"}`),
		} {
			if m := w.call(protocol.Command{Op: protocol.OpRefresh, Token: bad}); errCode(m) != "unauthorized" {
				t.Fatalf("refresh with %q: %s, want error unauthorized", bad, show(m))
			}
		}
		if got := w.closed(5 * time.Second); got != 4001 {
			t.Fatalf("close code %d, want 4001 at the first token's expiry", got)
		}
	})
}

func TestPermissions(t *testing.T) {
	t.Parallel()
	g := startNode(t, "--jwt-secret", testSecret)
	cases := []struct {
		name                 string
		subscribe, publish   []string
		op, channel, wantErr string
	}{
		{name: "subscribe without claims", op: "subscribe", channel: "chat:a", wantErr: "permission_denied"},
		{name: "subscribe outside the patterns", subscribe: []string{"chat:*"}, op: "subscribe", channel: "news:a", wantErr: "permission_denied"},
		{name: "chat:* allows chat:a:b", subscribe: []string{"chat:*"}, op: "subscribe", channel: "chat:a:b"},
		{name: "chat:* does not allow chat", subscribe: []string{"chat:*"}, op: "subscribe", channel: "chat", wantErr: "permission_denied"},
		{name: "* allows every channel", subscribe: []string{"*"}, op: "subscribe", channel: "x.y-z"},
		{name: "publish without claims", subscribe: []string{"*"}, op: "publish", channel: "chat:a", wantErr: "permission_denied"},
		{name: "publish outside the patterns", publish: []string{"chat:*"}, op: "publish", channel: "news:a", wantErr: "permission_denied"},
		{name: "publish chat:* allows chat:a:b", publish: []string{"chat:*"}, op: "publish", channel: "chat:a:b"},
		{name: "own personal channel without claims", op: "subscribe", channel: "user:alice"},
		{name: "another user's personal channel with *", subscribe: []string{"*"}, op: "subscribe", channel: "user:bob", wantErr: "permission_denied"},
		{name: "another user's personal channel named exactly", subscribe: []string{"user:bob"}, op: "subscribe", channel: "user:bob", wantErr: "permission_denied"},
		{name: "presence without subscribe permission", publish: []string{"*"}, op: "presence", channel: "chat:a", wantErr: "permission_denied"},
		{name: "presence with subscribe permission", subscribe: []string{"chat:*"}, op: "presence", channel: "chat:a"},
		{name: "history without subscribe permission", publish: []string{"*"}, op: "history", channel: "chat:a", wantErr: "permission_denied"},
		{name: "history with subscribe permission", subscribe: []string{"chat:*"}, op: "history", channel: "chat:a"},
		{name: "history of own personal channel", op: "history", channel: "user:alice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := connected(t, g, token(t, "alice", time.Hour, tc.subscribe, tc.publish))
			m := w.call(protocol.Command{Op: tc.op, Channel: tc.channel, Data: json.RawMessage(`"hi"`)})
			if got := errCode(m); got != tc.wantErr {
				t.Fatalf("%s %s: reply %v, want error %q", tc.op, tc.channel, m, tc.wantErr)
			}
			if tc.wantErr == "" {
				w.result(m)
			}
		})
	}
}

// runMain calls run as main does, with listeners on free ports, and returns
// its exit code and output. A run that starts serving is stopped after a
// while, so a missing startup error fails the test instead of hanging it.
func runMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	base := []string{"--listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
		"--drain-delay", "0s", "--drain-window", "0s"}
	if len(args) > 0 && args[0] == "token" {
		base = nil
	}
	var out, errb bytes.Buffer
	code = run(ctx, append(base, args...), func(string) string { return "" }, &out, &errb)
	return code, out.String(), errb.String()
}

func TestStartupErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not-a-key.pem")
	if err := os.WriteFile(notPEM, []byte("hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		args  []string
		names string // the stderr line must mention this
	}{
		{"no auth and no --dev", nil, "--jwt-secret"},
		{"missing --jwt-public-key file", []string{"--jwt-public-key", filepath.Join(dir, "absent.pem")}, "jwt-public-key"},
		{"--jwt-public-key file without a key", []string{"--jwt-public-key", notPEM}, "key"},
		{"unknown flag", []string{"--dev", "--no-such-flag"}, "no-such-flag"},
		{"bad flag value", []string{"--dev", "--max-connections", "many"}, "max-connections"},
		{"both a secret and a public key", []string{"--jwt-secret", testSecret, "--jwt-public-key", notPEM}, "jwt"},
		{"token without --sub", []string{"token", "--secret", testSecret}, "--sub"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runMain(t, tc.args...)
			if code != 1 {
				t.Fatalf("exit code %d, want 1 (stderr %q)", code, stderr)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") || len(strings.TrimSpace(stderr)) == 0 {
				t.Fatalf("stderr %q, want exactly one line", stderr)
			}
			if !strings.Contains(stderr, tc.names) {
				t.Fatalf("stderr %q does not name %q", stderr, tc.names)
			}
		})
	}
}

// TestDevWithSecret: --dev with a key makes the token optional (anonymous
// without one) but still verifies a token that is given.
func TestDevWithSecret(t *testing.T) {
	t.Parallel()
	g := startNode(t, "--dev", "--jwt-secret", testSecret)

	t.Run("no token is anonymous with every permission", func(t *testing.T) {
		t.Parallel()
		w := dial(t, g, nil)
		res := resultOf[protocol.ConnectResult](t, w.call(protocol.Command{Op: protocol.OpConnect}))
		if res.User != "" {
			t.Fatalf("user %q, want anonymous", res.User)
		}
		w.result(w.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "chat:a"}))
		w.result(w.call(protocol.Command{Op: protocol.OpPublish, Channel: "chat:a", Data: json.RawMessage(`1`)}))
	})
	t.Run("a valid token names the user and its permissions", func(t *testing.T) {
		t.Parallel()
		w := dial(t, g, nil)
		res := resultOf[protocol.ConnectResult](t, w.call(protocol.Command{Op: protocol.OpConnect, Token: token(t, "alice", time.Hour, []string{"chat:*"}, nil)}))
		if res.User != "alice" {
			t.Fatalf("user %q, want alice", res.User)
		}
		if m := w.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "news:a"}); errCode(m) != "permission_denied" {
			t.Fatalf("subscribe news:a: %s, want permission_denied (the token's claims apply)", show(m))
		}
	})
	t.Run("a forged token is refused", func(t *testing.T) {
		t.Parallel()
		w := dial(t, g, nil)
		m := w.call(protocol.Command{Op: protocol.OpConnect, Token: signHS256(t, "another-secret-0123456789abcdef", jwt.MapClaims{"sub": "alice"})})
		if errCode(m) != "unauthorized" {
			t.Fatalf("connect reply %s, want error unauthorized", show(m))
		}
		if got := w.closed(5 * time.Second); got != 4001 {
			t.Fatalf("close code %d, want 4001", got)
		}
	})
}

// TestTokenCommand: `wsgateway token` prints a token the node accepts.
func TestTokenCommand(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runMain(t, "token", "--sub", "bob", "--secret", testSecret, "--subscribe", "chat:*")
	if code != 0 || stderr != "" {
		t.Fatalf("token: exit %d, stderr %q", code, stderr)
	}
	g := startNode(t, "--jwt-secret", testSecret)
	w := dial(t, g, nil)
	res := resultOf[protocol.ConnectResult](t, w.call(protocol.Command{Op: protocol.OpConnect, Token: strings.TrimSpace(stdout)}))
	if res.User != "bob" {
		t.Fatalf("user %q, want bob", res.User)
	}
	w.result(w.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "chat:a"}))
	if m := w.call(protocol.Command{Op: protocol.OpSubscribe, Channel: "news:a"}); errCode(m) != "permission_denied" {
		t.Fatalf("subscribe news:a: %s, want permission_denied", show(m))
	}
}

// critToken signs a token whose header marks ext as a critical extension
// (RFC 7515 section 4.1.11).
func critToken(t *testing.T, secret, ext string) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "alice"})
	tok.Header["crit"], tok.Header[ext] = []string{ext}, true
	s, err := tok.SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestClockSkew: an issuer whose clock runs a little ahead mints tokens
// with iat and nbf in the near future; --jwt-leeway (5 s by default)
// accepts them, and nothing beyond it.
func TestClockSkew(t *testing.T) {
	t.Parallel()
	ahead := func(t *testing.T, d time.Duration) string {
		at := time.Now().Add(d).Unix()
		return signHS256(t, testSecret, jwt.MapClaims{"sub": "alice", "iat": at, "nbf": at,
			"exp": time.Now().Add(time.Hour).Unix()})
	}
	cases := []struct {
		name   string
		leeway []string // flags
		ahead  time.Duration
		wantOK bool
	}{
		{"issuer 2 s ahead, default leeway", nil, 2 * time.Second, true},
		{"issuer 30 s ahead, default leeway", nil, 30 * time.Second, false},
		{"issuer 30 s ahead, leeway 1m", []string{"--jwt-leeway", "1m"}, 30 * time.Second, true},
		{"issuer 3 s ahead, leeway 0", []string{"--jwt-leeway", "0s"}, 3 * time.Second, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := startNode(t, append([]string{"--jwt-secret", testSecret}, tc.leeway...)...)
			// Signed now, not before the node started: iat counts from here.
			m := dial(t, g, nil).call(protocol.Command{Op: protocol.OpConnect, Token: ahead(t, tc.ahead)})
			if tc.wantOK && errCode(m) != "" {
				t.Fatalf("connect reply %s, want a result", show(m))
			}
			if !tc.wantOK && errCode(m) != "unauthorized" {
				t.Fatalf("connect reply %s, want error unauthorized", show(m))
			}
		})
	}
}
