package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// minRSABits is the smallest RSA key accepted; shorter keys are forgeable in
// practice and NIST disallowed them in 2013.
const minRSABits = 2048

// parsePublicKey reads the first PEM block of data and returns the public key
// in it with the JWS algorithm that key implies.
func parsePublicKey(data []byte) (alg string, key crypto.PublicKey, err error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return "", nil, errors.New("no PEM block found")
	}
	key, err = decodePublicKey(block)
	if err != nil {
		return "", nil, err
	}
	alg, err = algorithmFor(key)
	if err != nil {
		return "", nil, err
	}
	return alg, key, nil
}

// decodePublicKey extracts the public key from a PEM block of a known type.
func decodePublicKey(block *pem.Block) (crypto.PublicKey, error) {
	switch block.Type {
	case "PUBLIC KEY":
		key, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse PUBLIC KEY: %w", err)
		}
		return key, nil
	case "RSA PUBLIC KEY":
		key, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse RSA PUBLIC KEY: %w", err)
		}
		return key, nil
	case "CERTIFICATE":
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse CERTIFICATE: %w", err)
		}
		return cert.PublicKey, nil
	}
	if strings.Contains(block.Type, "PRIVATE KEY") {
		return nil, fmt.Errorf("PEM block is a %s; give the public key only", block.Type)
	}
	return nil, fmt.Errorf("unsupported PEM block type %q", block.Type)
}

// algorithmFor maps a public key to the one JWS algorithm accepted with it.
func algorithmFor(key crypto.PublicKey) (string, error) {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if bits := k.N.BitLen(); bits < minRSABits {
			return "", fmt.Errorf("RSA key of %d bits is too short; need at least %d", bits, minRSABits)
		}
		return "RS256", nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return "ES256", nil
		case elliptic.P384():
			return "ES384", nil
		case elliptic.P521():
			return "ES512", nil
		}
		return "", fmt.Errorf("unsupported ECDSA curve %s", k.Curve.Params().Name)
	case ed25519.PublicKey:
		return "EdDSA", nil
	}
	return "", fmt.Errorf("unsupported public key type %T", key)
}
