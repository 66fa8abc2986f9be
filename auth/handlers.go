package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/heraldrt/herald"
)

// errNoToken refuses a connect without a token.
var errNoToken = invalid(errors.New("connect carried no token; this server requires one"))

// ConnectHandler returns an OnConnect handler that accepts only connections
// with a valid connection token: the token's sub becomes the connection's
// user, info its presence data, and channels are subscribed at connect. A
// missing or invalid token is refused with error 101 (close code 3500), an
// expired one with error 109 (close code 3005).
//
// A token with an exp makes the connection expire with it (plus the
// verifier's leeway, as long as Verify would still accept the token): the
// server sends the `refresh` push before then and closes the connection
// with 3005 unless the client refreshed it (see RefreshHandler).
func ConnectHandler(v *Verifier) herald.ConnectHandler {
	return func(ctx context.Context, e *herald.ConnectEvent) (herald.ConnectReply, error) {
		if e.Token == "" {
			return herald.ConnectReply{}, errNoToken
		}
		c, err := v.Verify(ctx, e.Token)
		if err != nil {
			return herald.ConnectReply{}, err
		}
		return herald.ConnectReply{User: c.User, Info: c.Info, Channels: c.Channels, ExpiresAt: v.expiresAt(c)}, nil
	}
}

// RefreshHandler returns an OnRefresh handler for connections authenticated
// with ConnectHandler: the refresh command's token must be a valid
// connection token for the same user (its sub equal to the connection's
// user), and its exp (plus the leeway; none means never) becomes the
// connection's new expiry. Its info and channels claims are ignored: they
// took effect at connect.
//
// A token that is not valid, or names another user, is refused with error
// 101, and the server closes the connection with 3500; an expired one with
// error 109, which leaves the connection as it was until its current expiry
// (the client may try again with another token). When the JWKS cannot be
// fetched, the client gets error 100 and may try again too.
func RefreshHandler(v *Verifier) herald.RefreshHandler {
	return func(ctx context.Context, s *herald.Session, e herald.RefreshEvent) (herald.RefreshReply, error) {
		c, err := v.Verify(ctx, e.Token)
		if err != nil {
			return herald.RefreshReply{}, err
		}
		if c.User != s.User() {
			return herald.RefreshReply{}, invalid(fmt.Errorf("the refresh token is for user %s, but the connection belongs to %s", short(c.User), short(s.User())))
		}
		return herald.RefreshReply{ExpiresAt: v.expiresAt(c)}, nil
	}
}

// expiresAt is when a connection authenticated with claims c stops being
// valid: its exp plus the leeway, the last moment Verify accepts the token.
// Zero means never (no exp).
func (v *Verifier) expiresAt(c *Claims) time.Time {
	if c.Expires.IsZero() {
		return time.Time{}
	}
	return c.Expires.Add(v.leeway)
}

// SubscribeHandler returns an OnSubscribe handler for connections
// authenticated with ConnectHandler. A channel whose name starts with
// privatePrefix ("$" is the convention) is private: subscribing needs a
// channel token for it (see VerifyChannelToken), else error 103 (permission
// denied), or 101 or 109 for a bad or expired token. Any other channel is
// open to every connection with a user. An empty privatePrefix makes no
// channel private.
//
// Channels named in the connection token's channels claim are subscribed at
// connect without this check.
func SubscribeHandler(v *Verifier, privatePrefix string) herald.SubscribeHandler {
	return func(ctx context.Context, s *herald.Session, e herald.SubscribeEvent) error {
		if s.User() == "" {
			return herald.ErrPermissionDenied
		}
		if privatePrefix == "" || !strings.HasPrefix(e.Channel, privatePrefix) {
			return nil
		}
		if e.Token == "" {
			return herald.ErrPermissionDenied
		}
		_, err := v.VerifyChannelToken(ctx, e.Token, s.User(), e.Channel)
		return err
	}
}

// PublishHandler returns an OnPublish handler that goes with
// SubscribeHandler: a client may publish to a private channel (one whose
// name starts with privatePrefix) only while subscribed to it, which needed
// a channel token; other channels take publications from every connection
// with a user. Refusals answer error 103.
func PublishHandler(privatePrefix string) herald.PublishHandler {
	return func(_ context.Context, s *herald.Session, e *herald.PublishEvent) error {
		if s.User() == "" {
			return herald.ErrPermissionDenied
		}
		if privatePrefix == "" || !strings.HasPrefix(e.Channel, privatePrefix) {
			return nil
		}
		if _, found := slices.BinarySearch(s.Channels(), e.Channel); !found {
			return herald.ErrPermissionDenied
		}
		return nil
	}
}
