package herald

import (
	"context"
	"slices"
	"strings"
)

// Access says who may do one thing on a namespace's channels.
type Access string

// The access levels. The zero value means AccessAnyone.
const (
	// AccessAnyone lets every connection, anonymous ones included.
	AccessAnyone Access = "anyone"
	// AccessUser lets authenticated connections (a non-empty user).
	AccessUser Access = "user"
	// AccessToken lets a connection with a valid channel token: sent with
	// subscribe, and for publish, presence and history, held through a
	// subscription made with one.
	AccessToken Access = "token"
	// AccessNone lets no client: only the server acts on these channels.
	AccessNone Access = "none"
)

// action names what a client wants to do on a channel.
type action int

const (
	actSubscribe action = iota
	actPublish
	actPresence
	actHistory
)

// Permissions say who may subscribe, publish, read presence and read
// history on a namespace's channels. Handlers override them: with an
// OnSubscribe handler, it alone decides subscribe, presence and history;
// with an OnPublish handler, it alone decides publish.
//
// A channel whose name ends in "#" and a comma-separated list of user ids
// ("dm:#alice,bob") is user-limited: on top of these permissions, only the
// listed users may use it.
type Permissions struct {
	Subscribe Access
	Publish   Access
	Presence  Access
	History   Access
}

func (p Permissions) of(a action) Access {
	switch a {
	case actPublish:
		return p.Publish
	case actPresence:
		return p.Presence
	case actHistory:
		return p.History
	default:
		return p.Subscribe
	}
}

// ChannelTokenVerifier checks a channel token: that it is valid, names
// channel, and (when it names a user) is for user. Package auth provides
// one (auth.Verifier.ChannelTokenVerifier).
type ChannelTokenVerifier func(ctx context.Context, token, user, channel string) error

// usersOf returns the users a user-limited channel allows, and whether the
// channel is user-limited.
func usersOf(channel string) ([]string, bool) {
	i := strings.LastIndexByte(channel, '#')
	if i < 0 {
		return nil, false
	}
	return strings.Split(channel[i+1:], ","), true
}

// authorize applies the namespace's permissions and the user list of a
// user-limited channel to a client's action. token is the channel token
// sent with subscribe. Every refusal is ErrPermissionDenied, whatever the
// reason, so that it reveals nothing about the channel.
func (s *Session) authorize(ctx context.Context, channel string, a action, token string) error {
	opts, err := s.node.channelOptions(channel)
	if err != nil {
		return err
	}
	if users, limited := usersOf(channel); limited && (s.user == "" || !slices.Contains(users, s.user)) {
		return ErrPermissionDenied
	}
	if !s.allows(ctx, opts.Permissions.of(a), channel, a, token) {
		return ErrPermissionDenied
	}
	return nil
}

// allows reports whether access lets the session do a on channel.
func (s *Session) allows(ctx context.Context, access Access, channel string, a action, token string) bool {
	switch access {
	case "", AccessAnyone:
		return true
	case AccessUser:
		return s.user != ""
	case AccessToken:
		if a != actSubscribe {
			return s.subscribedWithToken(channel)
		}
		verify := s.node.cfg.ChannelTokenVerifier
		return token != "" && verify != nil && verify(ctx, token, s.user, channel) == nil
	}
	return false
}

// authorizePrivate applies Config.PrivateChannelPrefix: on a private
// channel every action needs AccessToken, before any handler or
// permission is consulted.
func (s *Session) authorizePrivate(ctx context.Context, channel string, a action, token string) error {
	prefix := s.node.cfg.PrivateChannelPrefix
	if prefix == "" || !strings.HasPrefix(channel, prefix) || s.allows(ctx, AccessToken, channel, a, token) {
		return nil
	}
	return ErrPermissionDenied
}

// subscribedWithToken reports whether the session holds a subscription to
// channel that was authorized by a channel token.
func (s *Session) subscribedWithToken(channel string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub := s.subs.get(channel)
	return sub != nil && sub.byToken
}

// authorizeRead decides subscribe, presence and history: the private
// channel rule first, then the OnSubscribe handler when there is one
// (seeing who is in a channel, or its history, is reading the channel),
// the permissions otherwise.
func (s *Session) authorizeRead(ctx context.Context, channel string, a action, token string) error {
	if err := s.authorizePrivate(ctx, channel, a, token); err != nil {
		return err
	}
	if h := s.node.handlers.Load().subscribe; h != nil {
		return h(ctx, s, SubscribeEvent{Channel: channel, Token: token})
	}
	return s.authorize(ctx, channel, a, token)
}
