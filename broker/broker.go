// Package broker defines the contract between a Herald Node and the engine
// that carries publications between nodes and keeps channel history.
//
// Herald ships an embedded in-memory broker (package broker/memory) for one
// node; distributed brokers (Redis, NATS) implement the same contract. Every
// implementation must pass the conformance suite in package broker/brokertest.
//
// # Guarantees every Broker gives
//
//   - Order: for one channel, Publish calls that return in sequence are
//     delivered to every subscribed node's EventHandler in that sequence, and
//     HandlePublication is never called concurrently for the same channel on
//     one node.
//   - Offsets: on a channel with history (PublishOptions.HistorySize > 0) each
//     publication gets the next offset of the channel's stream: exactly one
//     more than the previous one, starting at 1, within one epoch. Offset and
//     append are atomic: two concurrent publishes never get the same offset.
//   - Epochs: a stream's epoch changes whenever its history is lost (expired,
//     removed, or the broker restarted without keeping it). Offsets from one
//     epoch mean nothing in another.
//   - Acknowledgement: when Publish returns without error, the publication is
//     in the history (if the channel has one) and on its way to every node
//     subscribed at that moment.
//   - Idempotency: a Publish with an IdempotencyKey seen on that channel within
//     IdempotencyWindow publishes nothing and returns the first publication's
//     position with Duplicate set.
//   - Channels without history get offset 0 and epoch "": delivery is
//     at-most-once.
package broker

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/heraldrt/herald/protocol"
)

// Publication is one message in a channel's stream. Brokers store and carry
// it; Offset is set by the broker.
type Publication = protocol.Publication

// StreamPosition is a place in a channel's stream.
type StreamPosition = protocol.StreamPosition

// ClientInfo describes the publisher of a publication.
type ClientInfo = protocol.ClientInfo

// ErrClosed is returned by a Broker after Close.
var ErrClosed = errors.New("broker: closed")

// ErrUnavailable wraps errors caused by an outside service being unreachable.
var ErrUnavailable = errors.New("broker: unavailable")

// EventHandler receives what a Broker delivers to its node.
type EventHandler interface {
	// HandlePublication is called for each publication on a channel this node
	// subscribed to, in the channel's order. pub must not be modified; its
	// Offset is its position in the stream whose epoch is epoch.
	HandlePublication(channel string, pub *Publication, epoch string)
	// HandleControl receives a message sent with PublishControl by any node,
	// this one included.
	HandleControl(data []byte)
	// HandleJoin and HandleLeave receive presence changes on a channel this
	// node subscribed to, sent with PublishJoin and PublishLeave.
	HandleJoin(channel string, info *ClientInfo)
	HandleLeave(channel string, info *ClientInfo)
}

// PublishOptions controls one Publish.
type PublishOptions struct {
	// HistorySize is how many publications the channel keeps; 0 keeps none
	// (and gives no offsets).
	HistorySize int
	// HistoryTTL is how long the stream is kept after its last publication;
	// 0 keeps it for as long as the broker runs.
	HistoryTTL time.Duration
	// IdempotencyKey makes the publish idempotent within IdempotencyWindow.
	IdempotencyKey string
	// IdempotencyWindow is how long a key is remembered (default 2 minutes).
	IdempotencyWindow time.Duration
}

// PublishResult is the outcome of a Publish.
type PublishResult struct {
	StreamPosition
	// Duplicate is set when the IdempotencyKey was seen before: nothing was
	// published and StreamPosition is the first publication's.
	Duplicate bool
}

// HistoryOptions selects publications from a stream.
type HistoryOptions struct {
	// Since, when set, selects publications after Since.Offset (oldest first),
	// or before it when Reverse is set. When Since.Epoch is not empty and not
	// the stream's epoch, the result has the stream's Position and no
	// publications: callers compare epochs to learn that history was lost.
	Since *StreamPosition
	// Limit caps the publications returned; 0 returns none (only the
	// position), a negative value returns all.
	Limit int
	// Reverse returns newest first.
	Reverse bool
}

// HistoryResult is a slice of a stream and the stream's current position.
type HistoryResult struct {
	// Position is the stream's latest offset and its epoch.
	Position StreamPosition
	// Publications in the order asked for.
	Publications []*Publication
}

// Broker carries publications between nodes and keeps history.
type Broker interface {
	// Start begins delivery to h. A Node calls it once, before anything else.
	Start(ctx context.Context, h EventHandler) error
	// Subscribe makes this node receive the channel's publications.
	// Subscribing twice is the same as once.
	Subscribe(ctx context.Context, channel string) error
	// Unsubscribe stops them.
	Unsubscribe(ctx context.Context, channel string) error
	// Publish appends pub to the channel's stream and delivers it to every
	// subscribed node.
	Publish(ctx context.Context, channel string, pub *Publication, opts PublishOptions) (PublishResult, error)
	// PublishControl delivers data to the HandleControl of every node.
	PublishControl(ctx context.Context, data []byte) error
	// PublishJoin and PublishLeave deliver a presence change to every node
	// subscribed to the channel. They keep no history and have no offset.
	PublishJoin(ctx context.Context, channel string, info *ClientInfo) error
	PublishLeave(ctx context.Context, channel string, info *ClientInfo) error
	// History reads the channel's stream.
	History(ctx context.Context, channel string, opts HistoryOptions) (HistoryResult, error)
	// Close stops delivery and releases resources.
	Close(ctx context.Context) error
}

// PresenceStore keeps who is present in each channel, across nodes. A
// Broker that also implements PresenceStore serves presence; Herald's
// memory broker does.
type PresenceStore interface {
	// AddPresence records client in channel with its info; adding a client
	// again replaces its info.
	AddPresence(ctx context.Context, channel string, info *ClientInfo) error
	// RemovePresence removes client from channel. Removing an absent client
	// is not an error.
	RemovePresence(ctx context.Context, channel, client string) error
	// Presence returns the clients in channel, by client id.
	Presence(ctx context.Context, channel string) (map[string]*ClientInfo, error)
}

// Pinger is implemented by brokers that can check their connection to an
// outside service; a node is not ready while Ping fails.
type Pinger interface {
	Ping(ctx context.Context) error
}

// StateLossHandler is implemented by an EventHandler that wants to know
// when its broker could not deliver every publication of a channel in order:
// the broker lost its connection to an outside service and history no longer
// holds what was missed (trimmed, expired), or the channel's stream was lost
// and started again in a new epoch. After HandleStateLoss the broker goes on
// delivering the channel from where the stream now is; the node should make
// that channel's subscribers recover from history, or tell their clients
// recovered:false, rather than let them see a silent gap.
//
// It is optional: brokers check for it with a type assertion, and a broker
// that never loses publications (the memory broker) never calls it.
type StateLossHandler interface {
	HandleStateLoss(channel string)
}

// RedactURL returns a broker URL as error messages and logs may show it:
// in each comma-separated part (scheme://user:password@host, or
// scheme://token@host), the password or token is replaced by xxxxx. The
// query, which names files rather than secrets, is kept.
func RedactURL(raw string) string {
	list, query, hasQuery := strings.Cut(raw, "?")
	parts := strings.Split(list, ",")
	for i, p := range parts {
		scheme, rest, ok := strings.Cut(p, "://")
		if !ok {
			scheme, rest = "", p
		} else {
			scheme += "://"
		}
		hosts, path, hasPath := strings.Cut(rest, "/")
		at := strings.LastIndex(hosts, "@")
		if at < 0 {
			continue
		}
		user, _, hasPass := strings.Cut(hosts[:at], ":")
		if !hasPass {
			user = "" // a token, or a password without its colon: hide it all
		}
		parts[i] = scheme + user + ":xxxxx@" + hosts[at+1:]
		if hasPath {
			parts[i] += "/" + path
		}
	}
	out := strings.Join(parts, ",")
	if hasQuery {
		out += "?" + query
	}
	return out
}
