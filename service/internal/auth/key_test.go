package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

func TestNewAlgorithm(t *testing.T) {
	k := newTestKeys(t)
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"secret", Config{Secret: []byte("s")}, "HS256"},
		{"RSA PKIX", Config{PublicKeyPEM: publicPEM(t, &k.rsa.PublicKey)}, "RS256"},
		{"RSA PKCS1", Config{PublicKeyPEM: pem.EncodeToMemory(&pem.Block{
			Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)})}, "RS256"},
		{"ECDSA P-256", Config{PublicKeyPEM: publicPEM(t, &k.p256.PublicKey)}, "ES256"},
		{"ECDSA P-384", Config{PublicKeyPEM: publicPEM(t, &k.p384.PublicKey)}, "ES384"},
		{"ECDSA P-521", Config{PublicKeyPEM: publicPEM(t, &newECKey(t, elliptic.P521()).PublicKey)}, "ES512"},
		{"Ed25519", Config{PublicKeyPEM: publicPEM(t, k.ed.Public())}, "EdDSA"},
		{"certificate", Config{PublicKeyPEM: certificatePEM(t, k.p256)}, "ES256"},
		{"text before the PEM block", Config{PublicKeyPEM: append([]byte("issuer key\n"),
			publicPEM(t, &k.p256.PublicKey)...)}, "ES256"},
		{"audience, issuer and leeway", Config{Secret: []byte("s"), Audience: "a", Issuer: "i", Leeway: time.Second}, "HS256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := New(tt.cfg)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if got := v.Algorithm(); got != tt.want {
				t.Errorf("Algorithm() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	k := newTestKeys(t)
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(k.p256)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // a fragment the error message must contain
	}{
		{"neither key", Config{}, "no secret or public key"},
		{"empty secret and PEM", Config{Secret: []byte{}, PublicKeyPEM: []byte{}}, "no secret or public key"},
		{"both keys", Config{Secret: []byte("s"), PublicKeyPEM: publicPEM(t, &k.rsa.PublicKey)}, "both"},
		{"not PEM", Config{PublicKeyPEM: []byte("ssh-rsa AAAA")}, "no PEM block"},
		{"corrupt body", Config{PublicKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte("junk")})}, "parse PUBLIC KEY"},
		{"private key", Config{PublicKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER})}, "give the public key only"},
		{"unknown block", Config{PublicKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "FOO", Bytes: []byte{1}})}, `unsupported PEM block type "FOO"`},
		{"short RSA", Config{PublicKeyPEM: publicPEM(t, &weak.PublicKey)}, "1024 bits is too short"},
		{"curve P-224", Config{PublicKeyPEM: publicPEM(t, &newECKey(t, elliptic.P224()).PublicKey)}, "unsupported ECDSA curve P-224"},
		{"negative leeway", Config{Secret: []byte("s"), Leeway: -time.Second}, "negative leeway"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := New(tt.cfg)
			if err == nil {
				t.Fatalf("New succeeded with algorithm %s", v.Algorithm())
			}
			if !strings.HasPrefix(err.Error(), "auth: ") || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New error = %q, want \"auth: ...\" containing %q", err, tt.wantErr)
			}
		})
	}
}

// certificatePEM returns a self-signed certificate for key as PEM.
func certificatePEM(t *testing.T, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
