package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// JWKS limits.
const (
	// maxJWKSSize bounds the key set's response body; a larger one is an
	// error, not a truncated set.
	maxJWKSSize = 1 << 20
	// maxJWKSKeys bounds the keys of one set.
	maxJWKSKeys = 100
	// jwksMinInterval spaces fetches, whatever causes them (a token with an
	// unknown kid, a failed fetch, the refresh age), so that tokens cannot
	// make Herald hammer the key server.
	jwksMinInterval = 10 * time.Second

	defaultJWKSRefresh = time.Hour
	defaultJWKSTimeout = 10 * time.Second
)

// jwk is one usable key of a key set.
type jwk struct {
	kid string
	alg string // "" when the set does not restrict it
	key crypto.PublicKey
}

// jwksCache holds the key set fetched from the configured URL.
type jwksCache struct {
	url     string
	client  *http.Client
	timeout time.Duration
	refresh time.Duration
	now     func() time.Time

	fetching sync.Mutex // held by the one goroutine fetching

	mu      sync.Mutex
	set     []jwk     // nil until a fetch succeeds
	fetched time.Time // when the last fetch succeeded
	tried   time.Time // when the last fetch began
	lastErr error     // why the last fetch failed, nil if it succeeded
}

func newJWKSCache(c Config) *jwksCache {
	j := &jwksCache{url: c.JWKSURL, client: c.HTTPClient, timeout: c.JWKSTimeout, refresh: c.JWKSRefresh, now: c.Now}
	if j.client == nil {
		j.client = &http.Client{}
	}
	if j.timeout == 0 {
		j.timeout = defaultJWKSTimeout
	}
	if j.refresh == 0 {
		j.refresh = defaultJWKSRefresh
	}
	if j.now == nil {
		j.now = time.Now
	}
	return j
}

// keys returns the keys of the set that fit alg (and kid, when not empty).
// It fetches the set first when there is none yet or kid is not in it
// (waiting for a fetch in progress), or in passing when the set is older
// than the refresh age (without waiting). It returns an error wrapping
// ErrKeysUnavailable when no set could be fetched, or when kid is unknown and
// the last fetch failed.
func (c *jwksCache) keys(ctx context.Context, kid, alg string) ([]crypto.PublicKey, error) {
	c.mu.Lock()
	set, fetched := c.set, c.fetched
	c.mu.Unlock()
	switch {
	case set == nil || (kid != "" && !slices.ContainsFunc(set, func(k jwk) bool { return k.kid == kid })):
		c.fetching.Lock()
		c.fetchIfDue(ctx)
		c.fetching.Unlock()
	case c.now().Sub(fetched) >= c.refresh:
		if c.fetching.TryLock() {
			c.fetchIfDue(ctx)
			c.fetching.Unlock()
		}
	}
	c.mu.Lock()
	set, lastErr := c.set, c.lastErr
	c.mu.Unlock()
	if set == nil {
		return nil, &keysError{cause: lastErr}
	}
	var out []crypto.PublicKey
	kidKnown := false
	for _, k := range set {
		if kid != "" && k.kid != kid {
			continue
		}
		kidKnown = true
		if (k.alg == "" || k.alg == alg) && fits(k.key, alg) {
			out = append(out, k.key)
		}
	}
	if !kidKnown && lastErr != nil {
		return nil, &keysError{cause: lastErr}
	}
	return out, nil
}

// fetchIfDue fetches the set unless a fetch began less than jwksMinInterval
// ago. The caller holds c.fetching.
func (c *jwksCache) fetchIfDue(ctx context.Context) {
	c.mu.Lock()
	if !c.tried.IsZero() && c.now().Sub(c.tried) < jwksMinInterval {
		c.mu.Unlock()
		return
	}
	c.tried = c.now()
	c.mu.Unlock()
	c.store(c.fetch(ctx))
}

// fetchNow fetches the set at once and returns the error.
func (c *jwksCache) fetchNow(ctx context.Context) error {
	c.fetching.Lock()
	defer c.fetching.Unlock()
	c.mu.Lock()
	c.tried = c.now()
	c.mu.Unlock()
	set, err := c.fetch(ctx)
	c.store(set, err)
	return err
}

func (c *jwksCache) store(set []jwk, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.lastErr = err
		return
	}
	c.set, c.fetched, c.lastErr = set, c.now(), nil
}

// fetch gets and parses the key set, within the timeout and the size bound.
func (c *jwksCache) fetch(ctx context.Context) ([]jwk, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return nil, fmt.Errorf("JWKS %s: %w", c.url, err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch JWKS %s: the server answered %s", c.url, resp.Status)
	}
	tooLarge := fmt.Errorf("fetch JWKS %s: the key set is larger than %d bytes", c.url, maxJWKSSize)
	if resp.ContentLength > maxJWKSSize {
		return nil, tooLarge
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSSize+1))
	if err != nil {
		return nil, fmt.Errorf("fetch JWKS %s: %w", c.url, err)
	}
	if len(body) > maxJWKSSize {
		return nil, tooLarge
	}
	set, err := parseJWKS(body)
	if err != nil {
		return nil, fmt.Errorf("JWKS %s: %w", c.url, err)
	}
	return set, nil
}

// jwkJSON is one key of a JWK Set (RFC 7517, RFC 7518 section 6, RFC 8037).
type jwkJSON struct {
	Kty    string   `json:"kty"`
	Kid    string   `json:"kid"`
	Use    string   `json:"use"`
	KeyOps []string `json:"key_ops"`
	Alg    string   `json:"alg"`
	Crv    string   `json:"crv"`
	N      string   `json:"n"`
	E      string   `json:"e"`
	X      string   `json:"x"`
	Y      string   `json:"y"`
}

// parseJWKS returns the usable signature-verification keys of a JWK Set.
// Keys of other types (symmetric "oct" keys above all: a secret has no place
// in a published set), for other uses, or with bad parameters are skipped;
// a set with no usable key is an error.
func parseJWKS(body []byte) ([]jwk, error) {
	var doc struct {
		Keys []jwkJSON `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("not a JWK Set: %w", err)
	}
	if len(doc.Keys) > maxJWKSKeys {
		return nil, fmt.Errorf("the key set holds %d keys; at most %d are accepted", len(doc.Keys), maxJWKSKeys)
	}
	var set []jwk
	for _, j := range doc.Keys {
		if j.Use != "" && j.Use != "sig" {
			continue
		}
		if j.KeyOps != nil && !slices.Contains(j.KeyOps, "verify") {
			continue
		}
		key, err := j.publicKey()
		if err != nil || key == nil || checkPublicKey(key) != nil {
			continue
		}
		if j.Alg != "" && !fits(key, j.Alg) {
			continue
		}
		set = append(set, jwk{kid: j.Kid, alg: j.Alg, key: key})
	}
	if len(set) == 0 {
		return nil, errors.New("the key set holds no usable signing key (RSA, EC on P-256, P-384 or P-521, or OKP Ed25519)")
	}
	return set, nil
}

// publicKey decodes the key, or returns nil for a key type Herald does not
// verify with.
func (j *jwkJSON) publicKey() (crypto.PublicKey, error) {
	switch j.Kty {
	case "RSA":
		n, err := b64(j.N)
		if err != nil {
			return nil, err
		}
		e, err := b64(j.E)
		if err != nil || len(e) == 0 || len(e) > 4 {
			return nil, errors.New("bad RSA exponent")
		}
		exp := int(new(big.Int).SetBytes(e).Int64())
		if exp < 3 || exp%2 == 0 {
			return nil, errors.New("bad RSA exponent")
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}, nil
	case "EC":
		var curve elliptic.Curve
		switch j.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return nil, nil
		}
		size := (curve.Params().BitSize + 7) / 8
		x, errX := b64(j.X)
		y, errY := b64(j.Y)
		if errX != nil || errY != nil || len(x) != size || len(y) != size {
			return nil, errors.New("bad EC coordinates")
		}
		point := append(append([]byte{4}, x...), y...)
		return ecdsa.ParseUncompressedPublicKey(curve, point) // checks the point is on the curve
	case "OKP":
		if j.Crv != "Ed25519" {
			return nil, nil
		}
		x, err := b64(j.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return nil, errors.New("bad Ed25519 key")
		}
		return ed25519.PublicKey(x), nil
	}
	return nil, nil
}

// b64 decodes base64url without padding (tolerating padding).
func b64(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}
