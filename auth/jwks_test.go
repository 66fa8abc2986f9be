package auth_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/heraldrt/herald/auth"
)

// jwksServer serves a key set that a test can change, and counts requests.
type jwksServer struct {
	*httptest.Server
	hits atomic.Int64
	mu   sync.Mutex
	body []byte
	code int
}

func newJWKSServer(t *testing.T, keys ...map[string]any) *jwksServer {
	s := &jwksServer{code: http.StatusOK}
	s.set(t, keys...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		body, code := s.body, s.code
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(t *testing.T, keys ...map[string]any) {
	t.Helper()
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.body = b
	s.mu.Unlock()
}

func (s *jwksServer) verifier(t *testing.T, clk *clock) *auth.Verifier {
	return newVerifier(t, auth.Config{JWKSURL: s.URL + "/jwks.json", HTTPClient: s.Client(), Now: clk.Now})
}

var b64u = base64.RawURLEncoding.EncodeToString

// jwkOf encodes a public key as a JWK with kid.
func jwkOf(kid string, pub crypto.PublicKey) map[string]any {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return map[string]any{"kty": "RSA", "kid": kid, "use": "sig", "n": b64u(k.N.Bytes()), "e": b64u(big.NewInt(int64(k.E)).Bytes())}
	case *ecdsa.PublicKey:
		size := (k.Curve.Params().BitSize + 7) / 8
		pt, err := k.Bytes() // 04 || x || y
		if err != nil {
			panic(err)
		}
		return map[string]any{"kty": "EC", "kid": kid, "crv": k.Curve.Params().Name, "x": b64u(pt[1 : 1+size]), "y": b64u(pt[1+size:])}
	case ed25519.PublicKey:
		return map[string]any{"kty": "OKP", "kid": kid, "crv": "Ed25519", "x": b64u(k)}
	}
	panic("unknown key type")
}

func TestJWKSVerifiesEveryKeyType(t *testing.T) {
	k := keys()
	s := newJWKSServer(t,
		jwkOf("r", &k.rsa.PublicKey), jwkOf("e", &k.ec256.PublicKey),
		jwkOf("e384", &k.ec384.PublicKey), jwkOf("d", k.ed.Public()))
	v := s.verifier(t, newClock())
	for _, tc := range []struct {
		m   jwt.SigningMethod
		key any
		kid string
	}{
		{jwt.SigningMethodRS256, k.rsa, "r"},
		{jwt.SigningMethodPS384, k.rsa, "r"},
		{jwt.SigningMethodES256, k.ec256, "e"},
		{jwt.SigningMethodES384, k.ec384, "e384"},
		{jwt.SigningMethodEdDSA, k.ed, "d"},
		{jwt.SigningMethodRS256, k.rsa, ""}, // no kid: every key of the family is tried
	} {
		if _, err := v.Verify(ctx, sign(t, tc.m, tc.key, claims(), map[string]any{"kid": tc.kid})); err != nil {
			t.Errorf("%s kid %q: %v", tc.m.Alg(), tc.kid, err)
		}
	}
	// A kid naming a key of another type does not help.
	if _, err := v.Verify(ctx, sign(t, jwt.SigningMethodRS256, k.rsa, claims(), map[string]any{"kid": "e"})); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("RS256 token with an EC kid: %v", err)
	}
	if n := s.hits.Load(); n != 1 {
		t.Errorf("%d fetches, want 1 (the set is cached)", n)
	}
}

// TestJWKSKeyRotation: the key server replaces key 1 with key 2. A token
// with the new kid makes Herald fetch again, at most once per 10 seconds;
// the periodic refresh drops the old key.
func TestJWKSKeyRotation(t *testing.T) {
	k := keys()
	s := newJWKSServer(t, jwkOf("k1", &k.rsa.PublicKey))
	clk := newClock()
	v := newVerifier(t, auth.Config{JWKSURL: s.URL, HTTPClient: s.Client(), Now: clk.Now, JWKSRefresh: time.Hour})
	tok1 := sign(t, jwt.SigningMethodRS256, k.rsa, claims(), map[string]any{"kid": "k1"})
	tok2 := sign(t, jwt.SigningMethodRS256, k.rsa2, with(claims(), jwt.MapClaims{"exp": now.Add(3 * time.Hour).Unix()}), map[string]any{"kid": "k2"})
	if _, err := v.Verify(ctx, tok1); err != nil {
		t.Fatal(err)
	}

	s.set(t, jwkOf("k2", &k.rsa2.PublicKey))
	// Within 10 s of the last fetch, an unknown kid fetches nothing.
	for range 50 {
		if _, err := v.Verify(ctx, tok2); !errors.Is(err, auth.ErrInvalidToken) || !strings.Contains(err.Error(), `kid "k2"`) {
			t.Fatalf("new kid within the rate limit: %v", err)
		}
	}
	if n := s.hits.Load(); n != 1 {
		t.Fatalf("%d fetches, want 1 (unknown kids are rate-limited)", n)
	}
	clk.Advance(11 * time.Second)
	if _, err := v.Verify(ctx, tok2); err != nil {
		t.Fatalf("new kid after the rate limit: %v", err)
	}
	if n := s.hits.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}
	// The old key was dropped with the refetched set.
	if _, err := v.Verify(ctx, tok1); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("old kid after rotation: %v", err)
	}
	// Random kids cost at most one fetch per 10 s.
	for i := range 100 {
		tok := sign(t, jwt.SigningMethodRS256, k.rsa, claims(), map[string]any{"kid": "random" + strconv.Itoa(i)})
		_, _ = v.Verify(ctx, tok)
	}
	if n := s.hits.Load(); n > 3 {
		t.Fatalf("%d fetches after 100 random kids, want at most 3", n)
	}

	// The periodic refresh: an hour later, the next verification fetches.
	s.set(t, jwkOf("k1", &k.rsa.PublicKey), jwkOf("k2", &k.rsa2.PublicKey))
	before := s.hits.Load()
	clk.Advance(time.Hour)
	if _, err := v.Verify(ctx, tok2); err != nil {
		t.Fatal(err)
	}
	if n := s.hits.Load(); n != before+1 {
		t.Fatalf("%d fetches, want %d (refresh after JWKSRefresh)", n, before+1)
	}
}

// TestJWKSUnavailable: a key server that is down, failing, or serving
// something else gives an error wrapping ErrKeysUnavailable (not "invalid
// token": the client should come back later), and Herald does not hammer it.
func TestJWKSUnavailable(t *testing.T) {
	k := keys()
	tok := sign(t, jwt.SigningMethodRS256, k.rsa, claims(), map[string]any{"kid": "k1"})

	// "Down" drops every connection without an answer. (A closed server's
	// URL would not do: its port may be reused by a server below.)
	downHits := new(atomic.Int64)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		downHits.Add(1)
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			_ = conn.Close()
		}
	}))
	t.Cleanup(down.Close)

	huge := `{"keys":[{"kty":"oct","k":"` + strings.Repeat("A", 2<<20) + `"}]}`
	bodies := map[string]func(w http.ResponseWriter){
		"500":       func(w http.ResponseWriter) { http.Error(w, "boom", http.StatusInternalServerError) },
		"not JSON":  func(w http.ResponseWriter) { _, _ = w.Write([]byte("<html>")) },
		"oversized": func(w http.ResponseWriter) { _, _ = w.Write([]byte(huge)) },
		"oversized, chunked": func(w http.ResponseWriter) {
			for i := 0; i < len(huge); i += 64 << 10 {
				_, _ = w.Write([]byte(huge[i:min(i+64<<10, len(huge))]))
				w.(http.Flusher).Flush()
			}
		},
		"only a symmetric key": func(w http.ResponseWriter) {
			_, _ = w.Write([]byte(`{"keys":[{"kty":"oct","kid":"k1","k":"` + b64u(secret) + `"}]}`))
		},
		"too many keys": func(w http.ResponseWriter) {
			k1, _ := json.Marshal(jwkOf("k1", &k.rsa.PublicKey))
			_, _ = w.Write([]byte(`{"keys":[` + strings.Repeat(string(k1)+",", 100) + string(k1) + `]}`))
		},
	}
	type server struct {
		url    string
		client *http.Client
		hits   *atomic.Int64
		want   string
	}
	servers := map[string]server{"down": {url: down.URL, client: down.Client(), hits: downHits, want: "fetch JWKS"}}
	wants := map[string]string{"500": "500", "not JSON": "not a JWK Set", "oversized": "larger than", "oversized, chunked": "larger than",
		"only a symmetric key": "no usable signing key", "too many keys": "at most 100"}
	for name, write := range bodies {
		hits := new(atomic.Int64)
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			write(w)
		}))
		t.Cleanup(ts.Close)
		servers[name] = server{url: ts.URL, client: ts.Client(), hits: hits, want: wants[name]}
	}
	for name, s := range servers {
		t.Run(name, func(t *testing.T) {
			clk := newClock()
			v := newVerifier(t, auth.Config{JWKSURL: s.url, HTTPClient: s.client, Now: clk.Now, JWKSTimeout: 2 * time.Second})
			for range 5 {
				_, err := v.Verify(ctx, tok)
				if !errors.Is(err, auth.ErrKeysUnavailable) || errors.Is(err, auth.ErrInvalidToken) {
					t.Fatalf("got %v, want ErrKeysUnavailable", err)
				}
				if protocolCode(err) != 0 {
					t.Fatalf("%v maps to protocol code %d; want none (a server error)", err, protocolCode(err))
				}
				if !strings.Contains(err.Error(), s.want) {
					t.Fatalf("error %q does not say %q", err, s.want)
				}
			}
			if n := s.hits.Load(); n > 1 {
				t.Errorf("%d requests for 5 verifications within 10 s, want at most 1", n)
			}
			if err := v.FetchJWKS(ctx); err == nil {
				t.Errorf("FetchJWKS: no error")
			}
		})
	}
}

// TestJWKSServesStaleKeysWhenRefreshFails: once a set was fetched, a failed
// refresh keeps the known keys working.
func TestJWKSServesStaleKeysWhenRefreshFails(t *testing.T) {
	k := keys()
	s := newJWKSServer(t, jwkOf("k1", &k.rsa.PublicKey))
	clk := newClock()
	v := newVerifier(t, auth.Config{JWKSURL: s.URL, HTTPClient: s.Client(), Now: clk.Now, JWKSRefresh: time.Minute})
	if err := v.FetchJWKS(ctx); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.code = http.StatusBadGateway
	s.mu.Unlock()
	clk.Advance(2 * time.Minute)
	tok := sign(t, jwt.SigningMethodRS256, k.rsa, with(claims(), jwt.MapClaims{"exp": now.Add(2 * time.Hour).Unix()}), map[string]any{"kid": "k1"})
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("known key during a failed refresh: %v", err)
	}
	if n := s.hits.Load(); n != 2 {
		t.Errorf("%d fetches, want 2 (the refresh was tried)", n)
	}
	// A new kid while the key server fails cannot be checked: unavailable,
	// not invalid.
	clk.Advance(time.Minute)
	tok2 := sign(t, jwt.SigningMethodRS256, k.rsa2, with(claims(), jwt.MapClaims{"exp": now.Add(2 * time.Hour).Unix()}), map[string]any{"kid": "k2"})
	if _, err := v.Verify(ctx, tok2); !errors.Is(err, auth.ErrKeysUnavailable) {
		t.Fatalf("unknown kid while the key server fails: %v", err)
	}
}

// TestTokenCannotChooseTheKeySource is the CVE-2026-32301 pattern: a token
// whose header points at the attacker's key set (jku, x5u) or whose claims
// name an issuer must not make Herald fetch anything from there. Herald
// fetches only the configured URL.
func TestTokenCannotChooseTheKeySource(t *testing.T) {
	k := keys()
	var evilHits atomic.Int64
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		evilHits.Add(1)
		b, _ := json.Marshal(map[string]any{"keys": []any{jwkOf("evil", &k.rsa2.PublicKey)}})
		_, _ = w.Write(b)
	}))
	t.Cleanup(evil.Close)
	good := newJWKSServer(t, jwkOf("k1", &k.rsa.PublicKey))
	clk := newClock()
	v := good.verifier(t, clk)

	forged := sign(t, jwt.SigningMethodRS256, k.rsa2,
		with(claims(), jwt.MapClaims{"iss": evil.URL, "jku": evil.URL}),
		map[string]any{"kid": "evil", "jku": evil.URL + "/jwks.json", "x5u": evil.URL + "/cert.pem",
			"jwk": jwkOf("evil", &k.rsa2.PublicKey)})
	for range 3 {
		if _, err := v.Verify(ctx, forged); !errors.Is(err, auth.ErrInvalidToken) {
			t.Fatalf("forged token: %v", err)
		}
		clk.Advance(11 * time.Second)
	}
	if n := evilHits.Load(); n != 0 {
		t.Fatalf("the attacker's server got %d requests", n)
	}
	if n := good.hits.Load(); n == 0 {
		t.Fatalf("the configured server was never asked")
	}
}
