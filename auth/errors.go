package auth

import (
	"errors"

	"github.com/heraldrt/herald"
)

// Errors that Verify and VerifyChannelToken wrap. Test for them with
// errors.Is; the wrapping error's message says why the token was refused.
var (
	// ErrInvalidToken means the token is missing, malformed, signed with an
	// unknown key or algorithm, or has the wrong claims. Getting a new
	// token is the only remedy. It maps to herald.ErrUnauthorized (error
	// 101).
	ErrInvalidToken = errors.New("auth: invalid token")
	// ErrTokenExpired means the token was valid but its exp (plus the
	// leeway) has passed. It maps to herald.ErrTokenExpired (error 109).
	ErrTokenExpired = errors.New("auth: token expired")
	// ErrKeysUnavailable means the token could not be checked because the
	// JWKS could not be fetched. The token may well be good: the client
	// should try again later. It maps to no protocol error, so a handler
	// that returns it answers error 100 and, on connect, close code 3007.
	ErrKeysUnavailable = errors.New("auth: the JWKS could not be fetched, so the token cannot be checked now; try again later")
)

// tokenError is a refused token: its kind (ErrInvalidToken or
// ErrTokenExpired), the herald error a client sees, and the reason.
type tokenError struct {
	kind   error
	reason error
}

func invalid(reason error) error { return &tokenError{kind: ErrInvalidToken, reason: reason} }

func expired(reason error) error { return &tokenError{kind: ErrTokenExpired, reason: reason} }

func (e *tokenError) Error() string { return e.kind.Error() + ": " + e.reason.Error() }

// Unwrap lets errors.Is find the kind and errors.As find the *herald.Error
// (before anything in the reason).
func (e *tokenError) Unwrap() []error {
	pe := herald.ErrUnauthorized
	if e.kind == ErrTokenExpired {
		pe = herald.ErrTokenExpired
	}
	return []error{e.kind, pe, e.reason}
}

// keysError is a token that could not be checked because the keys could not
// be fetched.
type keysError struct{ cause error }

func (e *keysError) Error() string {
	if e.cause == nil {
		return ErrKeysUnavailable.Error()
	}
	return ErrKeysUnavailable.Error() + ": " + e.cause.Error()
}

func (e *keysError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrKeysUnavailable}
	}
	return []error{ErrKeysUnavailable, e.cause}
}
