// Package secret keeps a password or key only as its SHA-256 and compares
// what a request carries with it in constant time, so that neither the
// secret's bytes nor its length leak through timing. The HTTP API's key and
// the dashboard's password are checked with it.
package secret

import (
	"crypto/sha256"
	"crypto/subtle"
)

// Digest is one accepted secret. Its zero value is no secret, which
// nothing matches.
type Digest struct {
	sum [sha256.Size]byte
	set bool
}

// New returns the digest of s; an empty s is no secret.
func New(s string) Digest {
	if s == "" {
		return Digest{}
	}
	return Digest{sum: sha256.Sum256([]byte(s)), set: true}
}

// IsSet reports whether d holds a secret.
func (d Digest) IsSet() bool { return d.set }

// Matches reports whether got is the secret, in constant time.
func (d Digest) Matches(got string) bool { return MatchesAny(got, d) }

// MatchesAny reports whether got is one of the secrets. It compares got
// with every one of them, in constant time, so that the answer's timing
// does not tell which one matched or how many are set.
func MatchesAny(got string, secrets ...Digest) bool {
	sum := sha256.Sum256([]byte(got))
	ok := 0
	for i := range secrets {
		ok |= subtle.ConstantTimeCompare(sum[:], secrets[i].sum[:]) & bit(secrets[i].set)
	}
	return ok == 1
}

func bit(b bool) int {
	if b {
		return 1
	}
	return 0
}
