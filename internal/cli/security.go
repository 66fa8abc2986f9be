package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

// jwksStartupTimeout bounds the key-set fetch at startup.
const jwksStartupTimeout = 10 * time.Second

// authConfigured reports whether any token key is set: then every
// connection needs a token.
func (c *Config) authConfigured() bool {
	return c.TokenSecret != "" || c.TokenPublicKey != "" || c.TokenJWKSURL != ""
}

// checkCombinations checks what one setting alone cannot: settings that only
// mean something together.
func (c *Config) checkCombinations() error {
	if err := c.checkACMECombinations(); err != nil {
		return err
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("tls_cert and tls_key go together: set both (--tls-cert and --tls-key) or neither")
	}
	if !c.authConfigured() && (c.TokenAudience != "" || c.TokenIssuer != "" || c.TokenLeeway != 0) {
		return errors.New("token_audience, token_issuer and token_leeway need a token key: set --token-secret, --token-public-key or --token-jwks-url")
	}
	if _, _, err := c.proxyConfig(); err != nil {
		return err
	}
	if err := c.checkWebhooks(); err != nil {
		return err
	}
	if c.Pprof && c.AdminAddr == "" {
		return errors.New("pprof is served only on the admin address: set --admin-addr (a loopback one, like 127.0.0.1:9090) with --pprof")
	}
	return nil
}

// validSecret accepts an empty secret or one of at least
// auth.MinSecretSize bytes.
func validSecret(v string) error {
	if v != "" && len(v) < auth.MinSecretSize {
		return fmt.Errorf("want at least %d bytes; make one with: openssl rand -hex 32", auth.MinSecretSize)
	}
	return nil
}

// validJWKSURL accepts an empty value or an http(s) URL with a host.
func validJWKSURL(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("want an http or https URL, like https://idp.example.com/.well-known/jwks.json")
	}
	return nil
}

// validOrigins accepts what herald.OriginPatterns accepts.
func validOrigins(v string) error {
	_, err := herald.OriginPatterns(stringList(v).items()...)
	return err
}

// checkOrigin returns the node's CheckOrigin: the configured origins and
// patterns, or nil (herald's default: same origin only) without any.
func (c *Config) checkOrigin() (func(*http.Request) bool, error) {
	if c.Origins == "" {
		if c.openMode() && isLoopback(c.Addr) {
			// Open mode on loopback is for development: pages on other
			// local ports may connect too.
			return herald.LoopbackOrigins, nil
		}
		return nil, nil
	}
	return herald.OriginPatterns(c.Origins.items()...)
}

// newVerifier builds the token verifier from the settings, reading the
// public key files.
func newVerifier(c *Config) (*auth.Verifier, error) {
	ac := auth.Config{
		HMACSecret: []byte(c.TokenSecret),
		JWKSURL:    c.TokenJWKSURL,
		Audience:   c.TokenAudience,
		Issuer:     c.TokenIssuer,
		Leeway:     c.TokenLeeway,
	}
	if files := c.TokenPublicKey.items(); len(files) > 0 {
		keys, err := auth.ReadPublicKeyFiles(files...)
		if err != nil {
			return nil, err
		}
		ac.PublicKeys = keys
	}
	return auth.NewVerifier(ac)
}

// installAuth makes the node require tokens: connect needs a valid
// connection token, and a connection lives as long as its token unless the
// client refreshes it with a new token for the same user; any channel is
// open to authenticated users except private ones ($...), which need a
// channel token to subscribe and a subscription to publish. It fetches the
// JWKS, if any, once, so that a bad URL shows in the logs at startup.
func installAuth(node *herald.Node, v *auth.Verifier, c *Config, log *slog.Logger) {
	node.OnConnect(logRefusals(auth.ConnectHandler(v), log))
	node.OnRefresh(logRefreshRefusals(auth.RefreshHandler(v), log))

	kinds := []any{"hmac", c.TokenSecret != "", "public_keys", len(c.TokenPublicKey.items())}
	if c.TokenJWKSURL != "" {
		kinds = append(kinds, "jwks_url", c.TokenJWKSURL)
	}
	log.Info("authentication on: every connection needs a token; namespaces with access \"token\" need a channel token", kinds...)
	if c.TokenJWKSURL != "" {
		ctx, cancel := context.WithTimeout(context.Background(), jwksStartupTimeout)
		defer cancel()
		if err := v.FetchJWKS(ctx); err != nil {
			log.Warn("cannot fetch the JWKS yet; tokens signed with its keys are refused until it can be fetched (retried at most every 10 s)", "error", err)
		}
	}
}

// logRefusals logs, at debug level, why a connect was refused: enough to
// debug a token setup, never the token itself. (A flood of bad tokens at
// info level would be a flood of logs.)
func logRefusals(h herald.ConnectHandler, log *slog.Logger) herald.ConnectHandler {
	return func(ctx context.Context, e *herald.ConnectEvent) (herald.ConnectReply, error) {
		rep, err := h(ctx, e)
		if err != nil && !errors.Is(err, auth.ErrKeysUnavailable) { // herald logs those as errors
			log.Debug("connect refused", "client", e.ClientID, "remote", e.RemoteAddr, "reason", err.Error())
		}
		return rep, err
	}
}

// logRefreshRefusals logs, at debug level, why a refresh was refused, like
// logRefusals.
func logRefreshRefusals(h herald.RefreshHandler, log *slog.Logger) herald.RefreshHandler {
	return func(ctx context.Context, s *herald.Session, e herald.RefreshEvent) (herald.RefreshReply, error) {
		rep, err := h(ctx, s, e)
		if err != nil && !errors.Is(err, auth.ErrKeysUnavailable) {
			log.Debug("refresh refused", "client", s.ID(), "user", s.User(), "reason", err.Error())
		}
		return rep, err
	}
}

// privateChannelPrefix is the prefix of private channels: "$" with
// authentication (a channel token to subscribe, the subscription to
// publish, read presence and history), none in open mode, where no channel
// token could be checked.
func (c *Config) privateChannelPrefix() string {
	if c.authConfigured() {
		return "$"
	}
	return ""
}

// channelTokens is the node's channel-token check: the verifier's, or none
// without authentication (token namespaces then admit no client).
func channelTokens(v *auth.Verifier) herald.ChannelTokenVerifier {
	if v == nil {
		return nil
	}
	return v.ChannelTokenVerifier()
}
