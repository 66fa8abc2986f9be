package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/heraldrt/herald/protocol"
)

// keyChecker authenticates requests against the configured key. It keeps
// only the key's SHA-256, and compares digests in constant time, so that
// neither the key's bytes nor its length leak through timing.
type keyChecker struct {
	digest [sha256.Size]byte
	set    bool
}

func newKeyChecker(key string) keyChecker {
	if key == "" {
		return keyChecker{}
	}
	return keyChecker{digest: sha256.Sum256([]byte(key)), set: true}
}

// Messages of the 401 answers.
const (
	msgNoKeyConfigured = "no API key is configured: start herald with --api-key or HERALD_API_KEY"
	msgMissingKey      = "missing API key: send it as X-API-Key: <key> or Authorization: Bearer <key>"
	msgWrongKey        = "invalid API key"
)

// check returns nil when r carries the configured key.
func (k keyChecker) check(r *http.Request) error {
	if !k.set {
		return unauthorized(msgNoKeyConfigured)
	}
	got, ok := requestKey(r)
	if !ok {
		return unauthorized(msgMissingKey)
	}
	d := sha256.Sum256([]byte(got))
	if subtle.ConstantTimeCompare(d[:], k.digest[:]) != 1 {
		return unauthorized(msgWrongKey)
	}
	return nil
}

// requestKey returns the key from X-API-Key, or else from a Bearer
// Authorization header.
func requestKey(r *http.Request) (string, bool) {
	if key := strings.TrimSpace(r.Header.Get("X-API-Key")); key != "" {
		return key, true
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

func unauthorized(msg string) *apiError {
	return &apiError{
		status: http.StatusUnauthorized,
		code:   protocol.CodeUnauthorized,
		msg:    msg,
		header: map[string]string{"WWW-Authenticate": `Bearer realm="herald api"`},
	}
}
