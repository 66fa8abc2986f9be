package auth

import (
	"errors"
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// Mint signs c with an HMAC secret (at least MinSecretSize bytes) using alg:
// "HS256", "HS384" or "HS512". It is meant for tests, tools and the herald
// token command; it refuses every other algorithm.
func Mint(secret []byte, alg string, c Claims) (string, error) {
	if familyOf(alg) != familyHMAC {
		return "", fmt.Errorf("auth: Mint signs with an HMAC secret only: use HS256, HS384 or HS512, not %q", alg)
	}
	if len(secret) < MinSecretSize {
		return "", fmt.Errorf("auth: the HMAC secret has %d bytes; use at least %d random bytes (openssl rand -hex 32 makes one)",
			len(secret), MinSecretSize)
	}
	if c.User == "" && c.Channel == "" {
		return "", errors.New("auth: a token needs a user (or, for a channel token, a channel)")
	}
	w, err := c.wire()
	if err != nil {
		return "", err
	}
	return jwt.NewWithClaims(jwt.GetSigningMethod(alg), w).SignedString(secret)
}
