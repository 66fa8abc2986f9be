package api

import (
	"net/http"
	"strings"

	"github.com/heraldrt/herald/internal/secret"
	"github.com/heraldrt/herald/protocol"
)

// keyChecker authenticates requests against the configured key, kept only
// as a digest and compared in constant time (package secret).
type keyChecker struct {
	key  secret.Digest
	hint string // how to set a key (Config.KeyHint)
}

func newKeyChecker(key, hint string) keyChecker {
	return keyChecker{key: secret.New(key), hint: hint}
}

// Messages of the 401 answers.
const (
	msgNoKeyConfigured = "no API key is configured: "
	msgMissingKey      = "missing API key: send it as X-API-Key: <key> or Authorization: Bearer <key>"
	msgWrongKey        = "invalid API key"
)

// check returns nil when r carries the configured key.
func (k keyChecker) check(r *http.Request) error {
	if !k.key.IsSet() {
		return unauthorized(msgNoKeyConfigured + k.hint)
	}
	got, ok := requestKey(r)
	if !ok {
		return unauthorized(msgMissingKey)
	}
	if !k.key.Matches(got) {
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
