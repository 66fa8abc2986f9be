package herald

import (
	"context"

	"github.com/heraldrt/herald/protocol"
)

// Limits.MaxConnectionsPerUser holds across the cluster: a user's
// connections are entries of a presence set of their own in the broker's
// PresenceStore, which every node shares (and whose entries a crashed
// node stops refreshing, so they expire). A connection adds itself first
// and then counts, so two connections racing on two nodes may both be
// refused, but never both admitted past the limit.

// userConnections is the presence set of a user's connections. Channel
// names cannot hold a space, so no client channel can collide with it.
func userConnections(user string) string { return "herald users " + user }

// admitUser reserves a connection of user for session id, within limit.
// It returns false when the user already holds limit connections. Without
// a presence store, or when the store cannot be reached, it counts this
// node's connections alone.
func (n *Node) admitUser(ctx context.Context, id, user string, limit int) bool {
	if n.presence == nil {
		return len(n.sessionsOf(user, "")) < limit
	}
	set := userConnections(user)
	if err := n.presence.AddPresence(ctx, set, &protocol.ClientInfo{Client: id, User: user}); err != nil {
		n.log.Warn("counting the user's connections across nodes failed; counting this node's", "user", user, "error", err)
		return len(n.sessionsOf(user, "")) < limit
	}
	all, err := n.presence.Presence(ctx, set)
	if err != nil {
		n.log.Warn("counting the user's connections across nodes failed; counting this node's", "user", user, "error", err)
		all = nil
	}
	if len(all) > limit || (all == nil && len(n.sessionsOf(user, "")) >= limit) {
		n.releaseUser(ctx, id, user)
		return false
	}
	return true
}

// releaseUser frees what admitUser reserved.
func (n *Node) releaseUser(ctx context.Context, id, user string) {
	if n.presence == nil {
		return
	}
	if err := n.presence.RemovePresence(ctx, userConnections(user), id); err != nil {
		n.log.Warn("removing a connection from its user's count failed", "user", user, "error", err)
	}
}
