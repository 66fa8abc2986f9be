package auth

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/heraldrt/herald"
)

// MinSecretSize is the shortest HMAC secret NewVerifier and Mint accept, in
// bytes: RFC 7518 asks for a key at least as long as the hash (32 bytes for
// HS256). Generate one with `openssl rand -hex 32`.
const MinSecretSize = 32

// MaxTokenSize is the longest token Verify looks at, in bytes. Longer ones
// are refused before any decoding.
const MaxTokenSize = 16 << 10

// Config configures a Verifier. At least one of HMACSecret, PublicKeys and
// JWKSURL must be set; a token is accepted when any configured key of the
// kind its algorithm needs verifies it.
type Config struct {
	// HMACSecret verifies HS256, HS384 and HS512 tokens; at least
	// MinSecretSize bytes. Without it, HMAC tokens are refused.
	HMACSecret []byte
	// PublicKeys verify RS*, PS* (RSA keys), ES* (ECDSA keys on the curve
	// the algorithm names) and EdDSA (Ed25519 keys) tokens. See
	// ReadPublicKeyFiles and ParsePublicKeys.
	PublicKeys []crypto.PublicKey
	// JWKSURL is an http or https URL serving a JSON Web Key Set whose
	// RSA, EC and OKP (Ed25519) keys verify tokens like PublicKeys do. It
	// comes from configuration only: nothing in a token changes where keys
	// are fetched from. Prefer https.
	JWKSURL string
	// JWKSRefresh is how old the fetched key set may grow before the next
	// verification fetches it again (default 1 hour). A token whose kid is
	// not in the set also causes a fetch, at most once per 10 seconds.
	JWKSRefresh time.Duration
	// JWKSTimeout bounds one fetch of the key set (default 10 s).
	JWKSTimeout time.Duration
	// HTTPClient fetches the key set (default: a client with no other
	// settings than JWKSTimeout).
	HTTPClient *http.Client

	// Audience, when set, must be among the token's aud.
	Audience string
	// Issuer, when set, must equal the token's iss.
	Issuer string
	// Leeway is the clock skew allowed when checking exp and nbf (default
	// 0).
	Leeway time.Duration
	// Now returns the current time (default time.Now); it must be safe for
	// concurrent use. Tests set it.
	Now func() time.Time
}

// Verifier checks tokens. It is safe for concurrent use.
type Verifier struct {
	secret []byte
	keys   []crypto.PublicKey
	jwks   *jwksCache // nil without a JWKS URL
	parser *jwt.Parser
	leeway time.Duration
}

// NewVerifier checks c and returns a Verifier. It fetches nothing: the JWKS,
// if any, is fetched by the first verification that needs it (or by
// FetchJWKS).
func NewVerifier(c Config) (*Verifier, error) {
	if len(c.HMACSecret) == 0 && len(c.PublicKeys) == 0 && c.JWKSURL == "" {
		return nil, errors.New("auth: no key configured: set an HMAC secret, public keys or a JWKS URL")
	}
	if c.Leeway < 0 || c.JWKSRefresh < 0 || c.JWKSTimeout < 0 {
		return nil, errors.New("auth: Leeway, JWKSRefresh and JWKSTimeout must not be negative")
	}
	v := &Verifier{leeway: c.Leeway}
	var algs []string
	if len(c.HMACSecret) > 0 {
		if len(c.HMACSecret) < MinSecretSize {
			return nil, fmt.Errorf("auth: the HMAC secret has %d bytes; use at least %d random bytes (openssl rand -hex 32 makes one)",
				len(c.HMACSecret), MinSecretSize)
		}
		v.secret = append([]byte(nil), c.HMACSecret...)
		algs = append(algs, hmacAlgs...)
	}
	families := map[keyFamily]bool{}
	for i, k := range c.PublicKeys {
		if err := checkPublicKey(k); err != nil {
			return nil, fmt.Errorf("auth: public key %d: %w", i, err)
		}
		families[familyOfKey(k)] = true
		v.keys = append(v.keys, k)
	}
	if c.JWKSURL != "" {
		u, err := url.Parse(c.JWKSURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("auth: JWKS URL %q: want an http or https URL, like https://idp.example.com/.well-known/jwks.json", c.JWKSURL)
		}
		v.jwks = newJWKSCache(c)
		families[familyRSA], families[familyEC], families[familyEd] = true, true, true
	}
	if families[familyRSA] {
		algs = append(algs, rsaAlgs...)
	}
	if families[familyEC] {
		algs = append(algs, ecAlgs...)
	}
	if families[familyEd] {
		algs = append(algs, edAlgs...)
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(algs), // never "none"; HMAC only with a secret
		jwt.WithLeeway(c.Leeway),
		jwt.WithStrictDecoding(),
	}
	if c.Now != nil {
		opts = append(opts, jwt.WithTimeFunc(c.Now))
	}
	if c.Audience != "" {
		opts = append(opts, jwt.WithAudience(c.Audience))
	}
	if c.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(c.Issuer))
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// Verify checks a connection token: its signature, exp and nbf (with the
// leeway), aud and iss (when configured), a sub naming the user, and no
// channel claim. The error wraps ErrInvalidToken, ErrTokenExpired or
// ErrKeysUnavailable (see the package documentation).
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	c, err := v.parse(ctx, token)
	if c == nil {
		return nil, err
	}
	switch {
	case c.Channel != "":
		return nil, invalid(errors.New("this is a channel token (it has a channel claim); connect with a connection token"))
	case c.User == "":
		return nil, invalid(errors.New("the token has no sub claim; a connection token must name its user"))
	case err != nil:
		return nil, err
	}
	return c, nil
}

// VerifyChannelToken checks a channel token for a subscription of user (the
// connection's user, "" for anonymous) to channel: everything Verify checks
// except sub, and a channel claim equal to channel. A token with a sub is
// only good for that user; one without is good for any connection that
// holds it.
func (v *Verifier) VerifyChannelToken(ctx context.Context, token, user, channel string) (*Claims, error) {
	c, err := v.parse(ctx, token)
	if c == nil {
		return nil, err
	}
	switch {
	case c.Channel == "":
		return nil, invalid(errors.New("not a channel token: it has no channel claim"))
	case c.Channel != channel:
		return nil, invalid(fmt.Errorf("the channel token is for channel %s, not %s", short(c.Channel), short(channel)))
	case c.User != "" && c.User != user:
		return nil, invalid(fmt.Errorf("the channel token is for user %s, not %s", short(c.User), short(user)))
	case err != nil:
		return nil, err
	}
	return c, nil
}

// FetchJWKS fetches the key set now, so that a bad JWKS URL shows at
// startup rather than at the first connection. It returns nil without a
// JWKS URL.
func (v *Verifier) FetchJWKS(ctx context.Context) error {
	if v.jwks == nil {
		return nil
	}
	return v.jwks.fetchNow(ctx)
}

// parse verifies the signature and the standard claims. It returns the
// claims when the signature is good, with a nil error or, for a token that
// is only expired, an error wrapping ErrTokenExpired.
func (v *Verifier) parse(ctx context.Context, token string) (*Claims, error) {
	if token == "" {
		return nil, invalid(errors.New("no token"))
	}
	if len(token) > MaxTokenSize {
		return nil, invalid(fmt.Errorf("the token is longer than %d bytes", MaxTokenSize))
	}
	var w wireClaims
	_, err := v.parser.ParseWithClaims(token, &w, v.keyFunc(ctx))
	var ke *keysError
	if errors.As(err, &ke) {
		return nil, ke
	}
	if err != nil && !onlyExpired(err) {
		return nil, invalid(err)
	}
	c, cerr := w.claims()
	if cerr != nil {
		return nil, invalid(cerr)
	}
	if err != nil {
		return c, expired(err)
	}
	return c, nil
}

// onlyExpired reports whether err says the token is expired and nothing
// else: its signature is good (claims are checked only after it) and every
// other claim passed.
func onlyExpired(err error) bool {
	if !errors.Is(err, jwt.ErrTokenExpired) {
		return false
	}
	for _, other := range []error{
		jwt.ErrTokenMalformed, jwt.ErrTokenUnverifiable, jwt.ErrTokenSignatureInvalid,
		jwt.ErrTokenNotValidYet, jwt.ErrTokenInvalidAudience, jwt.ErrTokenInvalidIssuer,
		jwt.ErrTokenRequiredClaimMissing, jwt.ErrTokenUsedBeforeIssued, jwt.ErrInvalidType,
	} {
		if errors.Is(err, other) {
			return false
		}
	}
	return true
}

// keyFunc returns the keys that may verify a token, chosen by the family of
// its algorithm: the HMAC secret for HS*, else the public keys of that
// family (and curve), with those of the JWKS. The parser has already
// refused algorithms outside the configured families.
func (v *Verifier) keyFunc(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		alg := t.Method.Alg()
		switch familyOf(alg) {
		case familyNone:
			return nil, fmt.Errorf("algorithm %s is not accepted", short(alg))
		case familyHMAC:
			if v.secret == nil {
				return nil, errors.New("HMAC tokens are not accepted: no secret is configured")
			}
			return v.secret, nil
		}
		var keys []jwt.VerificationKey
		for _, k := range v.keys {
			if fits(k, alg) {
				keys = append(keys, k)
			}
		}
		kid, _ := t.Header["kid"].(string)
		if v.jwks != nil {
			jk, err := v.jwks.keys(ctx, kid, alg)
			if err != nil && len(keys) == 0 {
				return nil, err
			}
			for _, k := range jk {
				keys = append(keys, k)
			}
		}
		if len(keys) == 0 {
			if kid != "" {
				return nil, fmt.Errorf("no %s key with kid %s", alg, short(kid))
			}
			return nil, fmt.Errorf("no configured key verifies %s tokens", alg)
		}
		return jwt.VerificationKeySet{Keys: keys}, nil
	}
}

// short quotes s for an error message, cut to 64 bytes: token contents are
// the sender's choice and end up in logs.
func short(s string) string {
	if len(s) > 64 {
		return strconv.Quote(s[:64]) + "..."
	}
	return strconv.Quote(s)
}

// ChannelTokenVerifier adapts VerifyChannelToken to herald.Config's
// ChannelTokenVerifier, which admits clients to AccessToken namespaces.
func (v *Verifier) ChannelTokenVerifier() herald.ChannelTokenVerifier {
	return func(ctx context.Context, token, user, channel string) error {
		_, err := v.VerifyChannelToken(ctx, token, user, channel)
		return err
	}
}
