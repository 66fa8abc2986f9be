package herald

import (
	"strings"
	"time"
)

// ChannelOptions are the delivery settings of a namespace's channels.
type ChannelOptions struct {
	// HistorySize is how many publications each channel keeps (0: none, and
	// no offsets, no recovery).
	HistorySize int
	// HistoryTTL is how long a channel's history outlives its last
	// publication (0: as long as the broker keeps it).
	HistoryTTL time.Duration
	// NoRecover forbids clients to recover missed publications on
	// resubscribe. Recovery needs history; it is allowed by default.
	NoRecover bool
	// MaxRecover caps how many publications one recovery may return
	// (default: HistorySize). A client that missed more is told
	// recovered:false.
	MaxRecover int
	// Presence keeps who is subscribed, for the presence command and API.
	Presence bool
	// JoinLeave sends join and leave pushes to subscribers that ask for
	// them (subscribe with presence:true). It needs Presence.
	JoinLeave bool
	// Permissions say who may subscribe, publish, read presence and
	// history (default: anyone).
	Permissions Permissions
}

// namespaceOf returns the namespace of a channel: the part before the first
// ':' ("chat" for "chat:lobby"), or "" for a channel without one.
func namespaceOf(channel string) string {
	if i := strings.IndexByte(channel, ':'); i > 0 {
		return channel[:i]
	}
	return ""
}

// channelOptions returns the options of channel's namespace. A channel
// without a namespace uses the top-level defaults; so does every channel
// when no namespaces are configured. Once any namespace is configured, a
// channel in an unknown one is refused with ErrUnknownChannel. Every way to
// reach a channel passes here, so this is also where its name is checked
// (Limits.MaxChannelLength, characters).
func (n *Node) channelOptions(channel string) (ChannelOptions, error) {
	if err := n.checkChannel(channel); err != nil {
		return ChannelOptions{}, err
	}
	ns := namespaceOf(channel)
	if ns == "" || n.cfg.Namespaces == nil {
		return n.defaults, nil
	}
	opts, ok := n.cfg.Namespaces[ns]
	if !ok {
		return ChannelOptions{}, ErrUnknownChannel
	}
	return normalized(opts), nil
}

// normalized fills derived defaults.
func normalized(o ChannelOptions) ChannelOptions {
	if o.MaxRecover <= 0 || o.MaxRecover > o.HistorySize {
		o.MaxRecover = o.HistorySize
	}
	if !o.Presence {
		o.JoinLeave = false
	}
	return o
}
