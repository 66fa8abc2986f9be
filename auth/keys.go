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
	"os"
	"slices"
	"strings"
)

// Bounds on RSA keys, from PEM files and from a JWKS. Smaller keys are
// breakable; larger ones make each verification needlessly slow.
const (
	minRSABits = 2048
	maxRSABits = 8192
)

// ParsePublicKeys parses the PEM blocks in data: public keys ("PUBLIC KEY",
// "RSA PUBLIC KEY") and certificates ("CERTIFICATE"), of RSA (2048 to 8192
// bits), ECDSA (P-256, P-384, P-521) or Ed25519. A private key is an error:
// Herald only ever needs the public half.
func ParsePublicKeys(data []byte) ([]crypto.PublicKey, error) {
	var keys []crypto.PublicKey
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		key, err := parsePEMBlock(block)
		if err != nil {
			return nil, err
		}
		if err := checkPublicKey(key); err != nil {
			return nil, err
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, errors.New(`no PEM block found: want a "-----BEGIN PUBLIC KEY-----" block`)
	}
	return keys, nil
}

func parsePEMBlock(b *pem.Block) (crypto.PublicKey, error) {
	switch {
	case b.Type == "PUBLIC KEY":
		return x509.ParsePKIXPublicKey(b.Bytes)
	case b.Type == "RSA PUBLIC KEY":
		return x509.ParsePKCS1PublicKey(b.Bytes)
	case b.Type == "CERTIFICATE":
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		return cert.PublicKey, nil
	case strings.Contains(b.Type, "PRIVATE KEY"):
		return nil, fmt.Errorf("found a %s: give Herald only the public key (openssl pkey -in key.pem -pubout)", b.Type)
	default:
		return nil, fmt.Errorf("unsupported PEM block %q: want PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE", b.Type)
	}
}

// ReadPublicKeyFiles reads and parses the PEM files at paths (see
// ParsePublicKeys). Errors name the file.
func ReadPublicKeyFiles(paths ...string) ([]crypto.PublicKey, error) {
	var keys []crypto.PublicKey
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("public key file: %w", err)
		}
		k, err := ParsePublicKeys(data)
		if err != nil {
			return nil, fmt.Errorf("public key file %s: %w", p, err)
		}
		keys = append(keys, k...)
	}
	return keys, nil
}

// checkPublicKey accepts the key types and sizes Herald verifies with.
func checkPublicKey(key crypto.PublicKey) error {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if bits := k.N.BitLen(); bits < minRSABits || bits > maxRSABits {
			return fmt.Errorf("RSA key of %d bits: want %d to %d bits", bits, minRSABits, maxRSABits)
		}
	case *ecdsa.PublicKey:
		if algForCurve(k.Curve) == "" {
			return fmt.Errorf("ECDSA key on curve %s: want P-256, P-384 or P-521", k.Curve.Params().Name)
		}
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return errors.New("Ed25519 key of the wrong size")
		}
	default:
		return fmt.Errorf("unsupported key type %T: want RSA, ECDSA or Ed25519", key)
	}
	return nil
}

// algForCurve returns the ES algorithm that uses curve, or "".
func algForCurve(c elliptic.Curve) string {
	switch c {
	case elliptic.P256():
		return "ES256"
	case elliptic.P384():
		return "ES384"
	case elliptic.P521():
		return "ES512"
	}
	return ""
}

// keyFamily names the kind of key an algorithm verifies with.
type keyFamily int

const (
	familyNone keyFamily = iota
	familyHMAC
	familyRSA
	familyEC
	familyEd
)

// Algorithms by key family.
var (
	hmacAlgs = []string{"HS256", "HS384", "HS512"}
	rsaAlgs  = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
	ecAlgs   = []string{"ES256", "ES384", "ES512"}
	edAlgs   = []string{"EdDSA"}
)

// familyOf returns the key family of alg, or familyNone for an algorithm
// Herald does not accept (none among them).
func familyOf(alg string) keyFamily {
	switch {
	case slices.Contains(hmacAlgs, alg):
		return familyHMAC
	case slices.Contains(rsaAlgs, alg):
		return familyRSA
	case slices.Contains(ecAlgs, alg):
		return familyEC
	case slices.Contains(edAlgs, alg):
		return familyEd
	}
	return familyNone
}

// familyOfKey returns the family of a key that checkPublicKey accepted.
func familyOfKey(key crypto.PublicKey) keyFamily {
	switch key.(type) {
	case *rsa.PublicKey:
		return familyRSA
	case *ecdsa.PublicKey:
		return familyEC
	case ed25519.PublicKey:
		return familyEd
	}
	return familyNone
}

// fits reports whether key verifies tokens signed with alg: the same
// family, and for ECDSA the curve that alg names.
func fits(key crypto.PublicKey, alg string) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return familyOf(alg) == familyRSA
	case *ecdsa.PublicKey:
		return algForCurve(k.Curve) == alg
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}
