package cli

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/protocol"
)

// connectRefused connects with token and checks the refusal: error 101
// and close 3500.
func connectRefused(t *testing.T, url, what, token string) {
	t.Helper()
	c := wstest.Dial(t, url)
	expectError(t, what, c.Call(map[string]any{"op": "connect", "token": token}), protocol.CodeUnauthorized)
	if code := c.ExpectClose(5 * time.Second); code != protocol.CloseInvalidToken {
		t.Errorf("%s: close %d, want 3500", what, code)
	}
}

// TestServeTokenClaims: with --token-audience and --token-issuer, a token
// must carry them (101 and 3500 otherwise); --token-leeway accepts a token
// that expired within it; a token's info is the connection's presence
// data.
func TestServeTokenClaims(t *testing.T) {
	const aud, iss = "herald", "https://idp.example.com"
	r := startServeEnv(t, map[string]string{"HERALD_TOKEN_SECRET": testSecret},
		"--addr=127.0.0.1:0", "--shutdown-window=50ms", "--presence",
		"--token-audience="+aud, "--token-issuer="+iss, "--token-leeway=1m")
	mint := func(c auth.Claims) string {
		t.Helper()
		tok, err := auth.Mint([]byte(testSecret), "HS256", c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	hour := time.Now().Add(time.Hour)
	connectRefused(t, r.url(), "no aud", mint(auth.Claims{User: "mallory", Issuer: iss, Expires: hour}))
	connectRefused(t, r.url(), "another aud", mint(auth.Claims{User: "mallory", Issuer: iss, Audience: []string{"other"}, Expires: hour}))
	connectRefused(t, r.url(), "another iss", mint(auth.Claims{User: "mallory", Issuer: "https://evil.example", Audience: []string{aud}, Expires: hour}))

	late := wstest.Dial(t, r.url())
	late.Connect(map[string]any{"token": mint(auth.Claims{User: "bob", Issuer: iss, Audience: []string{aud}, Expires: time.Now().Add(-30 * time.Second)})})

	// herald token reads the same settings, so its token passes.
	alice := wstest.Dial(t, r.url())
	alice.Connect(map[string]any{"token": mintWithCLI(t, "--user", "alice", "--info", `{"name":"Alice"}`,
		"--token-audience", aud, "--token-issuer", iss)})
	expectOK(t, "subscribe", alice.Call(map[string]any{"op": "subscribe", "channel": "room"}))
	rep := alice.Call(map[string]any{"op": "presence", "channel": "room"})
	var res struct {
		Clients map[string]struct {
			User string          `json:"user"`
			Info json.RawMessage `json:"info"`
		} `json:"clients"`
	}
	if rep.Error != nil || json.Unmarshal(rep.Result, &res) != nil || len(res.Clients) != 1 {
		t.Fatalf("presence: %+v", rep)
	}
	for _, e := range res.Clients {
		if e.User != "alice" || string(e.Info) != `{"name":"Alice"}` {
			t.Errorf("presence entry %+v %s, want alice with the token's info", e, e.Info)
		}
	}
}

// jwksOf returns a JSON Web Key Set holding key's public half as kid.
func jwksOf(key *rsa.PrivateKey, kid string) []byte {
	b64 := base64.RawURLEncoding.EncodeToString
	set, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
		"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
	}}})
	return set
}

// TestServeWithJWKS: --token-jwks-url verifies tokens with the keys of the
// set it names; a token signed by another key with the same kid is
// refused.
func TestServeWithJWKS(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jwksOf(key, "k1"))
	}))
	t.Cleanup(idp.Close)
	r := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--token-jwks-url", idp.URL+"/jwks.json")

	sign := func(k *rsa.PrivateKey, user string) string {
		t.Helper()
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"sub": user, "exp": time.Now().Add(time.Hour).Unix()})
		tok.Header["kid"] = "k1"
		s, err := tok.SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	c := wstest.Dial(t, r.url())
	if res := c.Connect(map[string]any{"token": sign(key, "carol")}); res.User != "carol" {
		t.Fatalf("connect result %+v, want user carol", res)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	connectRefused(t, r.url(), "signed by another key", sign(other, "mallory"))
}
