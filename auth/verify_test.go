package auth_test

import (
	"context"
	"crypto"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

var ctx = context.Background()

// protocolCode returns the herald error code err maps to, or 0.
func protocolCode(err error) int {
	var pe *herald.Error
	if errors.As(err, &pe) {
		return pe.Code
	}
	return 0
}

func TestVerifyHMAC(t *testing.T) {
	v := newVerifier(t, auth.Config{HMACSecret: secret})
	tok := hs256(t, with(claims(), jwt.MapClaims{
		"info":     map[string]any{"name": "Alice"},
		"channels": []string{"news", "$alice"},
	}))
	c, err := v.Verify(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.User != "alice" || string(c.Info) != `{"name":"Alice"}` || len(c.Channels) != 2 || c.Channels[1] != "$alice" {
		t.Errorf("claims %+v", c)
	}
	if !c.Expires.Equal(now.Add(time.Hour)) {
		t.Errorf("expires %v", c.Expires)
	}
	for _, alg := range []jwt.SigningMethod{jwt.SigningMethodHS384, jwt.SigningMethodHS512} {
		if _, err := v.Verify(ctx, sign(t, alg, secret, claims())); err != nil {
			t.Errorf("%s: %v", alg.Alg(), err)
		}
	}
}

// TestVerifyRefuses covers every way a connection token is refused, with
// the kind of error and the protocol code a client sees.
func TestVerifyRefuses(t *testing.T) {
	k := keys()
	v := newVerifier(t, auth.Config{
		HMACSecret: secret,
		Audience:   "herald",
		Issuer:     "https://idp.example.com",
		Leeway:     30 * time.Second,
	})
	good := with(claims(), jwt.MapClaims{"aud": "herald", "iss": "https://idp.example.com"})
	if _, err := v.Verify(ctx, hs256(t, good)); err != nil {
		t.Fatalf("good token refused: %v", err)
	}
	noneToken, err := jwt.NewWithClaims(jwt.SigningMethodNone, good).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	for _, tc := range []struct {
		name  string
		token string
		kind  error
		why   string // part of the error message
	}{
		{"no token", "", auth.ErrInvalidToken, "no token"},
		{"garbage", "garbage", auth.ErrInvalidToken, "malformed"},
		{"garbage with dots", "a.b.c", auth.ErrInvalidToken, "malformed"},
		{"four parts", hs256(t, good) + ".x", auth.ErrInvalidToken, "malformed"},
		{"header not JSON", b64([]byte("{")) + ".e30.sig", auth.ErrInvalidToken, "malformed"},
		{"too long", strings.Repeat("a", auth.MaxTokenSize+1), auth.ErrInvalidToken, "longer than"},
		{"wrong signature", sign(t, jwt.SigningMethodHS256, []byte("another-secret-of-32-bytes-00000"), good), auth.ErrInvalidToken, "signature"},
		{"tampered claims", tamper(t, hs256(t, good), `{"sub":"root"}`), auth.ErrInvalidToken, "signature"},
		{"alg none", noneToken, auth.ErrInvalidToken, "signing method none is invalid"},
		{"alg none, no signature", strings.TrimSuffix(noneToken, "."), auth.ErrInvalidToken, "malformed"},
		{"RS256 without RSA keys", sign(t, jwt.SigningMethodRS256, k.rsa, good), auth.ErrInvalidToken, "RS256 is invalid"},
		{"expired beyond the leeway", hs256(t, with(good, jwt.MapClaims{"exp": now.Add(-31 * time.Second).Unix()})), auth.ErrTokenExpired, "expired"},
		{"expired and wrong aud", hs256(t, with(good, jwt.MapClaims{"exp": now.Add(-time.Hour).Unix(), "aud": "other"})), auth.ErrInvalidToken, "audience"},
		{"not valid yet", hs256(t, with(good, jwt.MapClaims{"nbf": now.Add(time.Minute).Unix()})), auth.ErrInvalidToken, "not valid yet"},
		{"wrong aud", hs256(t, with(good, jwt.MapClaims{"aud": "someone-else"})), auth.ErrInvalidToken, "audience"},
		{"no aud", hs256(t, with(good, jwt.MapClaims{"aud": nil})), auth.ErrInvalidToken, "aud"},
		{"wrong iss", hs256(t, with(good, jwt.MapClaims{"iss": "https://evil.example.com"})), auth.ErrInvalidToken, "issuer"},
		{"no iss", hs256(t, with(good, jwt.MapClaims{"iss": nil})), auth.ErrInvalidToken, "iss"},
		{"exp not a number", hs256(t, with(good, jwt.MapClaims{"exp": "tomorrow"})), auth.ErrInvalidToken, "malformed"},
		{"no sub", hs256(t, with(good, jwt.MapClaims{"sub": nil})), auth.ErrInvalidToken, "no sub"},
		{"expired without sub", hs256(t, with(good, jwt.MapClaims{"sub": nil, "exp": now.Add(-time.Hour).Unix()})), auth.ErrInvalidToken, "no sub"},
		{"channel token", hs256(t, with(good, jwt.MapClaims{"channel": "$x"})), auth.ErrInvalidToken, "channel token"},
		{"info not an object", hs256(t, with(good, jwt.MapClaims{"info": "Alice"})), auth.ErrInvalidToken, "info"},
		{"empty channel name", hs256(t, with(good, jwt.MapClaims{"channels": []string{"a", ""}})), auth.ErrInvalidToken, "empty channel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := v.Verify(ctx, tc.token)
			if err == nil {
				t.Fatalf("accepted: %+v", c)
			}
			if !errors.Is(err, tc.kind) {
				t.Fatalf("error %v, want %v", err, tc.kind)
			}
			if !strings.Contains(err.Error(), tc.why) {
				t.Errorf("error %q does not say %q", err, tc.why)
			}
			wantCode := 101
			if tc.kind == auth.ErrTokenExpired {
				wantCode = 109
			}
			if got := protocolCode(err); got != wantCode {
				t.Errorf("protocol code %d, want %d", got, wantCode)
			}
			if len(tc.token) > 20 && strings.Contains(err.Error(), tc.token) {
				t.Errorf("the error repeats the token")
			}
		})
	}
}

// tamper replaces the payload of a signed token, keeping its signature.
func tamper(t *testing.T, token, payload string) string {
	parts := strings.Split(token, ".")
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(payload))
	return strings.Join(parts, ".")
}

func TestExpiryAndLeeway(t *testing.T) {
	clk := newClock()
	v := newVerifier(t, auth.Config{HMACSecret: secret, Leeway: time.Minute, Now: clk.Now})
	tok := hs256(t, with(claims(), jwt.MapClaims{"exp": now.Unix()}))

	clk.Advance(59 * time.Second) // expired, inside the leeway
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("inside the leeway: %v", err)
	}
	clk.Advance(2 * time.Second) // beyond it
	_, err := v.Verify(ctx, tok)
	if !errors.Is(err, auth.ErrTokenExpired) || errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("beyond the leeway: %v, want only ErrTokenExpired", err)
	}
	if !errors.Is(err, herald.ErrTokenExpired) {
		t.Errorf("%v does not map to herald.ErrTokenExpired", err)
	}

	// Without leeway, a token is refused from its exp second on.
	v0 := newVerifier(t, auth.Config{HMACSecret: secret, Now: func() time.Time { return now }})
	if _, err := v0.Verify(ctx, tok); !errors.Is(err, auth.ErrTokenExpired) {
		t.Errorf("at exp without leeway: %v", err)
	}
	// A token without exp does not expire.
	if _, err := v0.Verify(ctx, hs256(t, with(claims(), jwt.MapClaims{"exp": nil}))); err != nil {
		t.Errorf("token without exp: %v", err)
	}
}

// TestAlgorithmConfusion: a token's alg picks the kind of key it is checked
// with, never the other way round. The classic attack signs an HS256 token
// with the server's RSA public key (which is public) as the HMAC secret.
func TestAlgorithmConfusion(t *testing.T) {
	k := keys()
	rsaPEM := publicPEM(t, &k.rsa.PublicKey)
	forged := sign(t, jwt.SigningMethodHS256, rsaPEM, claims())
	forgedDER := sign(t, jwt.SigningMethodHS256, []byte(strings.TrimSpace(string(rsaPEM))), claims())
	pub, err := auth.ParsePublicKeys(rsaPEM)
	if err != nil {
		t.Fatal(err)
	}
	rsaOnly := newVerifier(t, auth.Config{PublicKeys: pub})
	both := newVerifier(t, auth.Config{PublicKeys: pub, HMACSecret: secret})
	hmacOnly := newVerifier(t, auth.Config{HMACSecret: secret})
	ecOnly := newVerifier(t, auth.Config{PublicKeys: []crypto.PublicKey{&k.ec256.PublicKey}})

	for _, tc := range []struct {
		name  string
		v     *auth.Verifier
		token string
	}{
		{"HS256 signed with the RSA PEM, RSA key configured", rsaOnly, forged},
		{"HS256 signed with the trimmed RSA PEM, RSA key configured", rsaOnly, forgedDER},
		{"HS256 signed with the RSA PEM, RSA key and secret configured", both, forged},
		{"RS256 token, only a secret configured", hmacOnly, sign(t, jwt.SigningMethodRS256, k.rsa, claims())},
		{"ES256 token, only an RSA key configured", rsaOnly, sign(t, jwt.SigningMethodES256, k.ec256, claims())},
		{"RS256 token, only an EC key configured", ecOnly, sign(t, jwt.SigningMethodRS256, k.rsa, claims())},
		{"ES384 token, only a P-256 key configured", ecOnly, sign(t, jwt.SigningMethodES384, k.ec384, claims())},
		{"RS256 token signed by another RSA key", rsaOnly, sign(t, jwt.SigningMethodRS256, k.rsa2, claims())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if c, err := tc.v.Verify(ctx, tc.token); !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("got %+v, %v; want ErrInvalidToken", c, err)
			}
		})
	}
	// The genuine articles pass.
	for _, m := range []jwt.SigningMethod{jwt.SigningMethodRS256, jwt.SigningMethodRS512, jwt.SigningMethodPS256} {
		if _, err := both.Verify(ctx, sign(t, m, k.rsa, claims())); err != nil {
			t.Errorf("%s: %v", m.Alg(), err)
		}
	}
}

func TestVerifyECDSAAndEdDSA(t *testing.T) {
	k := keys()
	var pemData []byte
	pemData = append(pemData, publicPEM(t, &k.ec256.PublicKey)...)
	pemData = append(pemData, publicPEM(t, &k.ec384.PublicKey)...)
	pemData = append(pemData, publicPEM(t, k.ed.Public())...)
	pub, err := auth.ParsePublicKeys(pemData)
	if err != nil {
		t.Fatal(err)
	}
	v := newVerifier(t, auth.Config{PublicKeys: pub})
	for _, tc := range []struct {
		m   jwt.SigningMethod
		key any
	}{
		{jwt.SigningMethodES256, k.ec256},
		{jwt.SigningMethodES384, k.ec384},
		{jwt.SigningMethodEdDSA, k.ed},
	} {
		c, err := v.Verify(ctx, sign(t, tc.m, tc.key, claims()))
		if err != nil || c.User != "alice" {
			t.Errorf("%s: %+v, %v", tc.m.Alg(), c, err)
		}
	}
	// An EdDSA token signed by another key fails.
	_, other, _ := ed25519GenerateKey()
	if _, err := v.Verify(ctx, sign(t, jwt.SigningMethodEdDSA, other, claims())); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("foreign EdDSA token: %v", err)
	}
}

func TestVerifyChannelToken(t *testing.T) {
	v := newVerifier(t, auth.Config{HMACSecret: secret})
	ch := func(c jwt.MapClaims) string { return hs256(t, c) }
	base := jwt.MapClaims{"sub": "alice", "channel": "$room", "exp": now.Add(time.Hour).Unix()}
	if _, err := v.VerifyChannelToken(ctx, ch(base), "alice", "$room"); err != nil {
		t.Fatalf("good channel token: %v", err)
	}
	if _, err := v.VerifyChannelToken(ctx, ch(with(base, jwt.MapClaims{"sub": nil})), "bob", "$room"); err != nil {
		t.Fatalf("channel token without sub: %v", err)
	}
	for _, tc := range []struct {
		name          string
		token         string
		user, channel string
		kind          error
	}{
		{"another channel", ch(base), "alice", "$other", auth.ErrInvalidToken},
		{"another user", ch(base), "bob", "$room", auth.ErrInvalidToken},
		{"anonymous user", ch(base), "", "$room", auth.ErrInvalidToken},
		{"connection token", hs256(t, claims()), "alice", "$room", auth.ErrInvalidToken},
		{"expired", ch(with(base, jwt.MapClaims{"exp": now.Add(-time.Hour).Unix()})), "alice", "$room", auth.ErrTokenExpired},
		{"expired for another channel", ch(with(base, jwt.MapClaims{"exp": now.Add(-time.Hour).Unix()})), "alice", "$x", auth.ErrInvalidToken},
		{"wrong signature", sign(t, jwt.SigningMethodHS256, []byte(strings.Repeat("x", 32)), base), "alice", "$room", auth.ErrInvalidToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := v.VerifyChannelToken(ctx, tc.token, tc.user, tc.channel); !errors.Is(err, tc.kind) {
				t.Fatalf("got %v, want %v", err, tc.kind)
			}
		})
	}
}

func TestNewVerifierRefusesBadConfig(t *testing.T) {
	k := keys()
	for _, tc := range []struct {
		name string
		c    auth.Config
		want string
	}{
		{"nothing", auth.Config{}, "no key"},
		{"short secret", auth.Config{HMACSecret: []byte("secret")}, "at least 32"},
		{"unsupported key", auth.Config{PublicKeys: []crypto.PublicKey{"a string"}}, "unsupported key type"},
		{"private key", auth.Config{PublicKeys: []crypto.PublicKey{k.rsa}}, "unsupported key type"},
		{"ftp JWKS", auth.Config{JWKSURL: "ftp://example.com/jwks"}, "http or https"},
		{"relative JWKS", auth.Config{JWKSURL: "/jwks.json"}, "http or https"},
		{"negative leeway", auth.Config{HMACSecret: secret, Leeway: -time.Second}, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := auth.NewVerifier(tc.c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

func TestVerifierCopiesTheSecret(t *testing.T) {
	s := append([]byte(nil), secret...)
	v := newVerifier(t, auth.Config{HMACSecret: s})
	tok := hs256(t, claims())
	s[0] ^= 1
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("changing the caller's slice changed the verifier: %v", err)
	}
}
