package herald

import (
	"context"
	"sort"

	"github.com/heraldrt/herald/protocol"
)

// Server-side subscriptions: channels the server subscribes a user to,
// rather than the client. They come from the OnConnect handler's
// ConnectReply.Channels (a token's `channels` claim, say), from
// Config.PersonalChannel, and from Node.Subscribe at any time. A client
// learns of them from the connect result's `subs` and from `sub` and
// `unsub` pushes, and recovers them by sending their positions in
// connect's `subs`.

// serverChannelsLocked lists the channels a connection of user is
// subscribed to at connect: the handler's, the personal channel, and those
// made with Node.Subscribe, without duplicates. userSubsMu is held.
func (n *Node) serverChannelsLocked(user string, fromHandler []string) []string {
	seen := make(map[string]bool, len(fromHandler)+1)
	var out []string
	add := func(ch string) {
		if ch != "" && !seen[ch] {
			seen[ch] = true
			out = append(out, ch)
		}
	}
	for _, ch := range fromHandler {
		add(ch)
	}
	if user != "" && n.cfg.PersonalChannel != "" {
		add(n.cfg.PersonalChannel + user)
	}
	if user != "" {
		for ch := range n.userSubs[user] {
			add(ch)
		}
	}
	return out
}

// Subscribe subscribes every connection of user, on every node, to
// channel: each gets a `sub` push. With Config.PersistUserSubscriptions the
// subscription also applies to the user's later connections until
// Unsubscribe, on every node that was running when Subscribe was called (it
// is kept in each node's memory).
func (n *Node) Subscribe(ctx context.Context, user, channel string) error {
	if user == "" {
		return ErrInvalidTarget
	}
	if channel == "" {
		return ErrInvalidChannel
	}
	if _, err := n.channelOptions(channel); err != nil {
		return err
	}
	return n.sendControl(ctx, control{Op: "subscribe", User: user, Channel: channel, Persist: n.cfg.PersistUserSubscriptions})
}

// Unsubscribe ends user's subscription to channel on every connection and
// every node; each connection gets an `unsub` push. It also ends a
// subscription the client made itself.
func (n *Node) Unsubscribe(ctx context.Context, user, channel string) error {
	if user == "" {
		return ErrInvalidTarget
	}
	if channel == "" {
		return ErrInvalidChannel
	}
	return n.sendControl(ctx, control{Op: "unsubscribe", User: user, Channel: channel})
}

// registerConnected registers a connected session and returns the channels
// to subscribe it to on the server's initiative. userSubsMu makes the two
// atomic with respect to applyUserSubscribe: a Node.Subscribe either is in
// the list or finds the session registered (and then waits on connectMu
// until the connect reply is queued).
func (n *Node) registerConnected(s *Session, fromHandler []string) []string {
	n.userSubsMu.Lock()
	defer n.userSubsMu.Unlock()
	n.addSession(s)
	return n.serverChannelsLocked(s.user, fromHandler)
}

// applyUserSubscribe runs a Subscribe control message on this node.
func (n *Node) applyUserSubscribe(user, channel string, persist bool) {
	n.userSubsMu.Lock()
	if persist {
		set := n.userSubs[user]
		if set == nil {
			set = make(map[string]struct{})
			n.userSubs[user] = set
		}
		set[channel] = struct{}{}
	}
	sessions := n.sessionsOf(user, "")
	n.userSubsMu.Unlock()
	for _, s := range sessions {
		s.serverSubscribe(channel)
	}
}

// applyUserUnsubscribe runs an Unsubscribe control message on this node.
func (n *Node) applyUserUnsubscribe(user, channel string) {
	n.userSubsMu.Lock()
	if set := n.userSubs[user]; set != nil {
		delete(set, channel)
		if len(set) == 0 {
			delete(n.userSubs, user)
		}
	}
	n.userSubsMu.Unlock()
	for _, s := range n.sessionsOf(user, "") {
		s.connectMu.Lock()
		removed := s.unsubscribe(n.ctx, channel)
		s.connectMu.Unlock()
		if removed {
			s.enqueue(s.enc.EncodePush(&protocol.Push{Op: protocol.OpUnsub, Channel: channel,
				Code: protocol.CodeUnsubscribedByServer, Reason: "unsubscribed by the server"}))
		}
	}
}

// serverSubscribe subscribes the session on the server's initiative and
// tells the client with a `sub` push. Already subscribed: nothing happens.
func (s *Session) serverSubscribe(channel string) {
	s.connectMu.Lock()
	defer s.connectMu.Unlock()
	sub, res, err := s.subscribe(s.node.ctx, subscribeRequest{channel: channel, server: true})
	if err != nil {
		if err != ErrAlreadySubscribed {
			s.logger().Warn("server-side subscribe failed", "channel", channel, "error", err)
		}
		return
	}
	s.goLive([]*subscription{sub}, []*protocol.SubscribeResult{res}, func() []byte {
		return s.enc.EncodePush(&protocol.Push{Op: protocol.OpSub, Channel: channel, SubscribeResult: res})
	})
}

// UserSubscriptions returns the channels that Subscribe attached to user on
// this node, sorted.
func (n *Node) UserSubscriptions(user string) []string {
	n.userSubsMu.Lock()
	defer n.userSubsMu.Unlock()
	out := make([]string, 0, len(n.userSubs[user]))
	for ch := range n.userSubs[user] {
		out = append(out, ch)
	}
	sort.Strings(out)
	return out
}
