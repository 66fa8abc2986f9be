package herald

import (
	"encoding/json"

	"github.com/heraldrt/herald/protocol"
)

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
	// ActivityPublished: this node accepted a publication (from a client,
	// the API or Node.Publish; not a duplicate), told once in the cluster,
	// on the node that published. Session is nil.
	ActivityPublished
)

// Activity is one connection or subscription starting or ending on this
// node, or a publication it accepted.
type Activity struct {
	Kind    ActivityKind
	Session *Session // nil for ActivityPublished
	// Channel is the channel of a subscription or publication ("" for
	// connections).
	Channel string
	// Presence reports whether the channel's namespace keeps presence.
	Presence bool
	// Data, Offset and User describe an ActivityPublished: the
	// publication's data, its offset in the channel's stream (0 without
	// history) and the publishing client's user ("" for the server or an
	// anonymous client).
	Data   json.RawMessage
	Offset uint64
	User   string
	// Binary marks a binary publication, whose Data is then a JSON
	// string holding the base64 of its bytes.
	Binary bool
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

// notifyPublished tells the activity handlers about an accepted
// publication; info is the publishing client's, or nil.
func (n *Node) notifyPublished(channel string, data json.RawMessage, binary bool, offset uint64, info *protocol.ClientInfo) {
	if len(n.handlers.Load().activity) == 0 {
		return
	}
	a := Activity{Kind: ActivityPublished, Channel: channel, Data: data, Offset: offset, Binary: binary}
	if binary {
		a.Data, _ = json.Marshal([]byte(data)) // a base64 string
	}
	if info != nil {
		a.User = info.User
	}
	n.notify(a)
}
