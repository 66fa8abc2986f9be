package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/protocol"
)

// startRefreshNode runs a Node with ConnectHandler and RefreshHandler on a
// real HTTP server and returns its WebSocket URL.
func startRefreshNode(t *testing.T, v *auth.Verifier, cfg herald.Config) string {
	t.Helper()
	cfg.ShutdownWindow = 50 * time.Millisecond
	node, err := herald.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	node.OnConnect(auth.ConnectHandler(v))
	node.OnRefresh(auth.RefreshHandler(v))
	hs := httptest.NewServer(node.Handler())
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = node.Shutdown(ctx)
	})
	return wstest.WSURL(hs.URL, "/")
}

// TestConnectHandlerExpiresAt: the connection expires with the token's exp,
// plus the leeway (the last moment the token is accepted); a token without
// exp never expires.
func TestConnectHandlerExpiresAt(t *testing.T) {
	exp := now.Add(time.Hour).Truncate(time.Second)
	for _, tc := range []struct {
		name   string
		leeway time.Duration
		claims jwt.MapClaims
		want   time.Time
	}{
		{"exp", 0, jwt.MapClaims{"sub": "alice", "exp": exp.Unix()}, exp},
		{"exp plus the leeway", 30 * time.Second, jwt.MapClaims{"sub": "alice", "exp": exp.Unix()}, exp.Add(30 * time.Second)},
		{"inside the leeway", time.Minute, jwt.MapClaims{"sub": "alice", "exp": now.Add(-10 * time.Second).Unix()}, now.Add(50 * time.Second)},
		{"no exp", time.Minute, jwt.MapClaims{"sub": "alice"}, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := auth.ConnectHandler(newVerifier(t, auth.Config{HMACSecret: secret, Leeway: tc.leeway}))
			rep, err := h(ctx, &herald.ConnectEvent{Token: hs256(t, tc.claims)})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.ExpiresAt.Equal(tc.want) {
				t.Fatalf("ExpiresAt %v, want %v", rep.ExpiresAt, tc.want)
			}
		})
	}
}

// TestRefreshHandlerOnANode: a refresh with a new token of the same user
// moves the expiry (to never, for a token without exp); an expired one is
// refused with 109 and leaves the connection open; a token of another user,
// a channel token or garbage is refused with 101 and closes with 3500.
func TestRefreshHandlerOnANode(t *testing.T) {
	v := newVerifier(t, auth.Config{HMACSecret: secret, Now: time.Now})
	url := startRefreshNode(t, v, herald.Config{})
	tok := func(c jwt.MapClaims) string { return hs256(t, c) }
	exp1 := time.Now().Add(time.Hour).Unix()
	exp2 := time.Now().Add(2 * time.Hour).Unix()

	c := wstest.Dial(t, url)
	if res := c.Connect(map[string]any{"token": tok(jwt.MapClaims{"sub": "alice", "exp": exp1})}); res.Expires != exp1 {
		t.Fatalf("connect expires %d, want %d", res.Expires, exp1)
	}
	refresh := func(token string) (protocol.RefreshResult, *protocol.Error) {
		t.Helper()
		r := c.Call(map[string]any{"op": "refresh", "token": token})
		var res protocol.RefreshResult
		if r.Error == nil {
			if err := json.Unmarshal(r.Result, &res); err != nil {
				t.Fatalf("refresh result %s: %v", r.Result, err)
			}
		}
		return res, r.Error
	}
	if res, err := refresh(tok(jwt.MapClaims{"sub": "alice", "exp": exp2})); err != nil || res.Expires != exp2 {
		t.Fatalf("refresh: %+v, %v; want expires %d", res, err, exp2)
	}
	if _, err := refresh(tok(jwt.MapClaims{"sub": "alice", "exp": time.Now().Add(-time.Minute).Unix()})); err == nil || err.Code != protocol.CodeTokenExpired {
		t.Fatalf("refresh with an expired token: %v, want 109", err)
	}
	// The connection is still usable after a 109.
	if r := c.Call(map[string]any{"op": "subscribe", "channel": "news"}); r.Error != nil {
		t.Fatalf("subscribe after a refused refresh: %v", r.Error)
	}
	if res, err := refresh(tok(jwt.MapClaims{"sub": "alice"})); err != nil || res.Expires != 0 {
		t.Fatalf("refresh with a token without exp: %+v, %v; want expires 0", res, err)
	}

	for _, tc := range []struct{ name, token string }{
		{"another user", tok(jwt.MapClaims{"sub": "bob", "exp": exp2})},
		{"channel token", tok(jwt.MapClaims{"sub": "alice", "channel": "$x", "exp": exp2})},
		{"garbage", "garbage.garbage.garbage"},
		{"another secret", sign(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-xx"), jwt.MapClaims{"sub": "alice", "exp": exp2})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := wstest.Dial(t, url)
			c.Connect(map[string]any{"token": tok(jwt.MapClaims{"sub": "alice", "exp": exp1})})
			r := c.Call(map[string]any{"op": "refresh", "token": tc.token})
			if r.Error == nil || r.Error.Code != protocol.CodeUnauthorized {
				t.Fatalf("refresh: %+v, want error 101", r)
			}
			if code := c.ExpectClose(5 * time.Second); code != protocol.CloseInvalidToken {
				t.Fatalf("close %d, want 3500", code)
			}
		})
	}
}

// TestRefreshHandlerErrors: the errors a handler returns map to the
// protocol errors the client sees.
func TestRefreshHandlerErrors(t *testing.T) {
	v := newVerifier(t, auth.Config{HMACSecret: secret})
	h := auth.RefreshHandler(v)
	// A nil session is enough for tokens refused before the user check.
	_, err := h(ctx, nil, herald.RefreshEvent{Token: hs256(t, jwt.MapClaims{"sub": "alice", "exp": now.Add(-time.Hour).Unix()})})
	if !errors.Is(err, herald.ErrTokenExpired) || !errors.Is(err, auth.ErrTokenExpired) {
		t.Fatalf("expired: %v", err)
	}
	_, err = h(ctx, nil, herald.RefreshEvent{Token: "nonsense"})
	if !errors.Is(err, herald.ErrUnauthorized) || !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("garbage: %v", err)
	}
}

// TestTokenExpiryOnALiveConnection: a connection whose token expires gets
// the refresh push; refreshed with a new token it outlives the first token,
// and without a refresh it is closed with 3005.
func TestTokenExpiryOnALiveConnection(t *testing.T) {
	v := newVerifier(t, auth.Config{HMACSecret: secret, Now: time.Now})
	url := startRefreshNode(t, v, herald.Config{RefreshAhead: 500 * time.Millisecond})
	// exp has whole seconds: this token expires in 1 to 2 s.
	short := func() (string, time.Time) {
		exp := time.Now().Add(2 * time.Second).Truncate(time.Second)
		return hs256(t, jwt.MapClaims{"sub": "alice", "exp": exp.Unix()}), exp
	}

	t.Run("refreshed", func(t *testing.T) {
		t.Parallel()
		token, exp := short()
		c := wstest.Dial(t, url)
		c.Connect(map[string]any{"token": token})
		if _, err := c.NextPush(protocol.OpRefreshPush, 5*time.Second); err != nil {
			t.Fatalf("no refresh push: %v", err)
		}
		later := time.Now().Add(time.Hour).Unix()
		r := c.Call(map[string]any{"op": "refresh", "token": hs256(t, jwt.MapClaims{"sub": "alice", "exp": later})})
		if r.Error != nil {
			t.Fatalf("refresh: %v", r.Error)
		}
		time.Sleep(time.Until(exp) + 500*time.Millisecond)
		if r := c.Call(map[string]any{"op": "subscribe", "channel": "news"}); r.Error != nil {
			t.Fatalf("subscribe past the first token's expiry: %v", r.Error)
		}
	})
	t.Run("not refreshed", func(t *testing.T) {
		t.Parallel()
		token, exp := short()
		c := wstest.Dial(t, url)
		c.Connect(map[string]any{"token": token})
		if _, err := c.NextPush(protocol.OpRefreshPush, 5*time.Second); err != nil {
			t.Fatalf("no refresh push: %v", err)
		}
		if code := c.ExpectClose(5 * time.Second); code != protocol.CloseTokenExpired {
			t.Fatalf("close %d, want 3005", code)
		}
		if early := time.Until(exp); early > 100*time.Millisecond {
			t.Fatalf("closed %v before the token's exp", early)
		}
	})
}
