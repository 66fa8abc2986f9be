package herald

import (
	"context"
	"fmt"

	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/protocol"
)

// join records a client's presence in channel and, where the namespace
// sends them, announces it to subscribers that asked for join pushes.
// Failures are logged: presence is informational and never blocks a
// subscription.
func (n *Node) join(ctx context.Context, channel string, info *protocol.ClientInfo, opts ChannelOptions) {
	if n.presence != nil {
		if err := n.presence.AddPresence(ctx, channel, info); err != nil {
			n.log.Warn("add presence", "channel", channel, "client", info.Client, "error", err)
		}
	}
	if opts.JoinLeave {
		if err := n.broker.PublishJoin(ctx, channel, info); err != nil {
			n.log.Warn("publish join", "channel", channel, "error", err)
		}
	}
}

// leave undoes join; it runs when a subscription ends, however it ends
// (unsubscribe, clean close, lost connection, missed pong).
func (n *Node) leave(ctx context.Context, channel string, info *protocol.ClientInfo) {
	if n.presence != nil {
		if err := n.presence.RemovePresence(ctx, channel, info.Client); err != nil {
			n.log.Warn("remove presence", "channel", channel, "client", info.Client, "error", err)
		}
	}
	if opts, err := n.channelOptions(channel); err == nil && opts.JoinLeave {
		if err := n.broker.PublishLeave(ctx, channel, info); err != nil {
			n.log.Warn("publish leave", "channel", channel, "error", err)
		}
	}
}

// handleJoin delivers a join push to the channel's local subscribers that
// asked for them.
func (n *Node) handleJoin(channel string, info *broker.ClientInfo) {
	n.hub.broadcastJoinLeave(channel, info.Client, &protocol.Push{Op: protocol.OpJoin, Channel: channel, Info: info})
}

// handleLeave delivers a leave push, like handleJoin.
func (n *Node) handleLeave(channel string, info *broker.ClientInfo) {
	n.hub.broadcastJoinLeave(channel, info.Client, &protocol.Push{Op: protocol.OpLeave, Channel: channel, Info: info})
}

// PresenceInfo is one client present in a channel.
type PresenceInfo = protocol.PresenceInfo

// Presence returns the clients subscribed to channel, on every node, by
// client id. It needs presence enabled for the channel's namespace.
func (n *Node) Presence(ctx context.Context, channel string) (map[string]*PresenceInfo, error) {
	if channel == "" {
		return nil, ErrInvalidChannel
	}
	opts, err := n.channelOptions(channel)
	if err != nil {
		return nil, err
	}
	if !opts.Presence || n.presence == nil {
		return nil, ErrPresenceDisabled
	}
	all, err := n.presence.Presence(ctx, channel)
	if err != nil {
		return nil, fmt.Errorf("herald: presence of %q: %w", channel, err)
	}
	out := make(map[string]*PresenceInfo, len(all))
	for id, c := range all {
		out[id] = &PresenceInfo{User: c.User, Info: c.Data}
	}
	return out, nil
}

func (s *Session) handlePresence(ctx context.Context, cmd *protocol.Command) result {
	if cmd.Channel == "" {
		return fail(protocol.NewError(protocol.CodeBadRequest, "presence needs a channel"))
	}
	if err := s.authorizeRead(ctx, cmd.Channel, actPresence, ""); err != nil {
		return fail(err)
	}
	clients, err := s.node.Presence(ctx, cmd.Channel)
	if err != nil {
		return fail(err)
	}
	return ok(&protocol.PresenceResult{Clients: clients})
}
