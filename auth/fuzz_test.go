package auth_test

import (
	"crypto"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/heraldrt/herald/auth"
)

// FuzzVerify feeds arbitrary strings to Verify and VerifyChannelToken with
// every kind of static key configured. They must never panic, and anything
// they accept must have a user.
func FuzzVerify(f *testing.F) {
	k := keys()
	good := with(claims(), jwt.MapClaims{"info": map[string]any{"n": 1}, "channels": []string{"a"}})
	for _, seed := range []string{
		"", ".", "..", "a.b.c", "e30.e30.", "eyJhbGciOiJub25lIn0.e30.",
		sign(f, jwt.SigningMethodHS256, secret, good),
		sign(f, jwt.SigningMethodHS512, secret, with(good, jwt.MapClaims{"channel": "$x"})),
		sign(f, jwt.SigningMethodRS256, k.rsa, good, map[string]any{"kid": "x"}),
		sign(f, jwt.SigningMethodPS256, k.rsa, good),
		sign(f, jwt.SigningMethodES256, k.ec256, good),
		sign(f, jwt.SigningMethodEdDSA, k.ed, good),
		sign(f, jwt.SigningMethodHS256, publicPEM(f, &k.rsa.PublicKey), good),
	} {
		f.Add(seed)
	}
	v, err := auth.NewVerifier(auth.Config{
		HMACSecret: secret,
		PublicKeys: []crypto.PublicKey{&k.rsa.PublicKey, &k.ec256.PublicKey, k.ed.Public()},
		Leeway:     time.Minute,
		Now:        func() time.Time { return now },
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, token string) {
		if c, err := v.Verify(ctx, token); err == nil && c.User == "" {
			t.Fatalf("accepted a token without a user: %q", token)
		}
		if c, err := v.VerifyChannelToken(ctx, token, "alice", "$x"); err == nil && c.Channel != "$x" {
			t.Fatalf("accepted a channel token for %q", c.Channel)
		}
	})
}
