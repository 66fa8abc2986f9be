package auth

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/heraldrt/herald"
)

// errNoToken refuses a connect without a token.
var errNoToken = invalid(errors.New("connect carried no token; this server requires one"))

// ConnectHandler returns an OnConnect handler that accepts only connections
// with a valid connection token: the token's sub becomes the connection's
// user, info its presence data, and channels are subscribed at connect. A
// missing or invalid token is refused with error 101 (close code 3500), an
// expired one with error 109 (close code 3005).
func ConnectHandler(v *Verifier) herald.ConnectHandler {
	return func(ctx context.Context, e *herald.ConnectEvent) (herald.ConnectReply, error) {
		if e.Token == "" {
			return herald.ConnectReply{}, errNoToken
		}
		c, err := v.Verify(ctx, e.Token)
		if err != nil {
			return herald.ConnectReply{}, err
		}
		return herald.ConnectReply{User: c.User, Info: c.Info, Channels: c.Channels}, nil
	}
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
