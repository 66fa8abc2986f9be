package auth_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald/auth"
)

func ed25519GenerateKey() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	return ed25519.GenerateKey(rand.Reader)
}

func TestMintRoundTrip(t *testing.T) {
	v := newVerifier(t, auth.Config{HMACSecret: secret, Audience: "herald"})
	for _, alg := range []string{"HS256", "HS384", "HS512"} {
		tok, err := auth.Mint(secret, alg, auth.Claims{
			User: "alice", Expires: now.Add(time.Hour), Audience: []string{"herald"},
			Info: json.RawMessage(`{"name":"Alice"}`), Channels: []string{"news"},
		})
		if err != nil {
			t.Fatal(err)
		}
		c, err := v.Verify(ctx, tok)
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		if c.User != "alice" || string(c.Info) != `{"name":"Alice"}` || c.Channels[0] != "news" || !c.Expires.Equal(now.Add(time.Hour)) {
			t.Errorf("%s: claims %+v", alg, c)
		}
	}
}

func TestMintRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		secret []byte
		alg    string
		c      auth.Claims
		want   string
	}{
		{"RS256", secret, "RS256", auth.Claims{User: "a"}, "HMAC"},
		{"none", secret, "none", auth.Claims{User: "a"}, "HMAC"},
		{"short secret", []byte("short"), "HS256", auth.Claims{User: "a"}, "at least 32"},
		{"no user", secret, "HS256", auth.Claims{}, "needs a user"},
		{"info not an object", secret, "HS256", auth.Claims{User: "a", Info: json.RawMessage(`[1]`)}, "JSON object"},
		{"info not JSON", secret, "HS256", auth.Claims{User: "a", Info: json.RawMessage(`{`)}, "JSON object"},
		{"empty channel", secret, "HS256", auth.Claims{User: "a", Channels: []string{""}}, "empty channel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := auth.Mint(tc.secret, tc.alg, tc.c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
}
