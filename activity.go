package herald

// Activity hooks: what happens on this node, told as it happens, for
// integrations that follow connections and subscriptions (package webhook
// turns them into cluster-wide events). They are observers: they cannot
// refuse anything, and they run on the connection's goroutine, so they must
// return quickly (hand the work to a queue).

// ActivityKind says what an Activity reports.
type ActivityKind int

// The kinds of Activity.
const (
	// ActivityConnected: a connection completed connect (its User is set).
	// It comes before the connection's server-side subscriptions.
	ActivityConnected ActivityKind = iota + 1
	// ActivityDisconnected: a connection that completed connect ended,
	// after the ActivityUnsubscribed of each of its subscriptions.
	ActivityDisconnected
	// ActivitySubscribed: a subscription started (by the client or the
	// server).
	ActivitySubscribed
	// ActivityUnsubscribed: a subscription ended, however it ended
	// (unsubscribe, server unsubscribe, the connection closing).
	ActivityUnsubscribed
)

// Activity is one connection or subscription starting or ending on this
// node.
type Activity struct {
	Kind    ActivityKind
	Session *Session
	// Channel is the channel of a subscription ("" for connections).
	Channel string
	// Presence reports whether the channel's namespace keeps presence.
	Presence bool
}

// ActivityHandler is told about every Activity on this node, in order for
// one connection. It must not block.
type ActivityHandler func(a Activity)

// OnActivity adds a handler told about connections and subscriptions as
// they start and end on this node. Unlike the other handlers it does not
// replace earlier ones: several integrations may observe (webhooks, the
// HTTP proxy), each told in the order they were added.
func (n *Node) OnActivity(fn ActivityHandler) {
	n.updateHandlers(func(h *handlers) { h.activity = append(h.activity[:len(h.activity):len(h.activity)], fn) })
}

// notify tells the activity handlers about a.
func (n *Node) notify(a Activity) {
	for _, h := range n.handlers.Load().activity {
		h(a)
	}
}
