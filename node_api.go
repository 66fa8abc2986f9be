package herald

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"time"

	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/protocol"
)

// PublishOption changes one Publish or Broadcast.
type PublishOption func(*publishOptions)

type publishOptions struct {
	key  string
	info *protocol.ClientInfo
}

// WithKey makes the publish idempotent: another publish with the same key on
// the same channel within Config.IdempotencyWindow publishes nothing and
// returns the first one's position.
func WithKey(key string) PublishOption { return func(o *publishOptions) { o.key = key } }

// WithPublisher attaches publisher info, shown to subscribers in the
// publication's `info`.
func WithPublisher(client, user string, data json.RawMessage) PublishOption {
	return func(o *publishOptions) { o.info = &protocol.ClientInfo{Client: client, User: user, Data: data} }
}

// PublishResult is the position a publication took in its channel's stream.
type PublishResult struct {
	Offset uint64 `json:"offset,omitempty"`
	Epoch  string `json:"epoch,omitempty"`
	// Duplicate is set when the key was seen before and nothing was
	// published.
	Duplicate bool `json:"-"`
}

// Publish sends data (any valid JSON) to every subscriber of channel on every
// node. When it returns without error the publication is in the channel's
// history (if it has one) and on its way to every subscriber.
func (n *Node) Publish(ctx context.Context, channel string, data json.RawMessage, opts ...PublishOption) (PublishResult, error) {
	var o publishOptions
	for _, fn := range opts {
		fn(&o)
	}
	return n.publish(ctx, channel, data, o)
}

func (n *Node) publish(ctx context.Context, channel string, data json.RawMessage, o publishOptions) (PublishResult, error) {
	if n.draining.Load() && n.ctx.Err() != nil {
		return PublishResult{}, ErrNodeClosed
	}
	if channel == "" {
		return PublishResult{}, ErrInvalidChannel
	}
	if len(data) > n.cfg.MaxPublicationSize {
		return PublishResult{}, ErrPublicationTooLarge
	}
	opts, err := n.channelOptions(channel)
	if err != nil {
		return PublishResult{}, err
	}
	d, valid := protocol.Compact(data)
	if !valid {
		return PublishResult{}, ErrInvalidData
	}
	pub := &broker.Publication{Data: d, Info: o.info, Key: o.key, Time: time.Now().UnixMilli()}
	res, err := n.broker.Publish(ctx, channel, pub, broker.PublishOptions{
		HistorySize:       opts.HistorySize,
		HistoryTTL:        opts.HistoryTTL,
		IdempotencyKey:    o.key,
		IdempotencyWindow: n.cfg.IdempotencyWindow,
	})
	if err != nil {
		return PublishResult{}, fmt.Errorf("herald: publish to %q: %w", channel, err)
	}
	return PublishResult{Offset: res.Offset, Epoch: res.Epoch, Duplicate: res.Duplicate}, nil
}

// BroadcastResult is the outcome of a Broadcast for one channel.
type BroadcastResult struct {
	Channel string `json:"channel"`
	PublishResult
	Err error `json:"-"`
}

// Broadcast publishes the same data to several channels. Each channel
// succeeds or fails on its own; the returned error is only for data that
// cannot be published anywhere.
func (n *Node) Broadcast(ctx context.Context, channels []string, data json.RawMessage, opts ...PublishOption) ([]BroadcastResult, error) {
	var o publishOptions
	for _, fn := range opts {
		fn(&o)
	}
	d, valid := protocol.Compact(data)
	if !valid {
		return nil, ErrInvalidData
	}
	out := make([]BroadcastResult, len(channels))
	for i, ch := range channels {
		res, err := n.publish(ctx, ch, d, o)
		out[i] = BroadcastResult{Channel: ch, PublishResult: res, Err: err}
	}
	return out, nil
}

// HistoryOptions select publications for History.
type HistoryOptions struct {
	// Since selects publications after this position (before it with
	// Reverse). Nil starts from the oldest (newest with Reverse).
	Since *protocol.StreamPosition
	// Limit caps the publications returned (default and maximum: the
	// channel's history size).
	Limit int
	// Reverse returns newest first.
	Reverse bool
}

// History returns publications kept for channel and the stream's position.
func (n *Node) History(ctx context.Context, channel string, opts HistoryOptions) (*protocol.HistoryResult, error) {
	if channel == "" {
		return nil, ErrInvalidChannel
	}
	copts, err := n.channelOptions(channel)
	if err != nil {
		return nil, err
	}
	if copts.HistorySize <= 0 {
		return nil, ErrHistoryDisabled
	}
	limit := opts.Limit
	if limit <= 0 || limit > copts.HistorySize {
		limit = copts.HistorySize
	}
	h, err := n.broker.History(ctx, channel, broker.HistoryOptions{Since: opts.Since, Limit: limit, Reverse: opts.Reverse})
	if err != nil {
		return nil, fmt.Errorf("herald: history of %q: %w", channel, err)
	}
	pubs := h.Publications
	if pubs == nil {
		pubs = []*protocol.Publication{}
	}
	return &protocol.HistoryResult{Offset: h.Position.Offset, Epoch: h.Position.Epoch, Publications: pubs}, nil
}

// control is a message between nodes, carried by the broker.
type control struct {
	Op      string `json:"op"`
	User    string `json:"user,omitempty"`
	Client  string `json:"client,omitempty"`
	Channel string `json:"channel,omitempty"`
	Persist bool   `json:"persist,omitempty"`
	Code    int    `json:"code,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// Disconnect closes every connection of user (or the one connection with id
// client) on every node, with code and reason (see Session.Disconnect). A
// code outside 3000-4999 (0, say) means CloseForceReconnect.
func (n *Node) Disconnect(ctx context.Context, user, client string, code int, reason string) error {
	if user == "" && client == "" {
		return ErrInvalidTarget
	}
	if code < 3000 || code > 4999 {
		code = protocol.CloseForceReconnect
	}
	return n.sendControl(ctx, control{Op: "disconnect", User: user, Client: client, Code: code, Reason: reason})
}

// handleControl runs a control message that a node (this one included)
// sent through the broker.
func (n *Node) handleControl(data []byte) {
	var c control
	if err := json.Unmarshal(data, &c); err != nil {
		n.log.Warn("ignored malformed control message", "error", err)
		return
	}
	switch c.Op {
	case "disconnect":
		for _, s := range n.sessionsOf(c.User, c.Client) {
			s.closeWith(c.Code, c.Reason)
		}
	case "subscribe":
		n.applyUserSubscribe(c.User, c.Channel, c.Persist)
	case "unsubscribe":
		n.applyUserUnsubscribe(c.User, c.Channel)
	default:
		n.log.Debug("ignored unknown control message", "op", c.Op)
	}
}

// Channels lists the channels with subscribers on this node, with their
// subscriber counts, sorted by name. pattern, when not empty, filters names
// with path.Match syntax ("chat:*").
func (n *Node) Channels(pattern string) ([]ChannelInfo, error) {
	var match func(string) bool
	if pattern != "" {
		if _, err := path.Match(pattern, ""); err != nil {
			return nil, fmt.Errorf("herald: bad channel pattern %q: %w", pattern, err)
		}
		match = func(ch string) bool { ok, _ := path.Match(pattern, ch); return ok }
	}
	return n.hub.channels(match), nil
}

// NodeInfo describes a node's state.
type NodeInfo struct {
	Name          string  `json:"name"`
	Connections   int     `json:"connections"`
	Users         int     `json:"users"`
	Channels      int     `json:"channels"`
	Subscriptions int     `json:"subscriptions"`
	Uptime        float64 `json:"uptime"` // seconds
	Draining      bool    `json:"draining"`
}

// Info describes this node.
func (n *Node) Info() NodeInfo {
	channels, subs := n.hub.counts()
	n.sessionsMu.RLock()
	users := len(n.users)
	n.sessionsMu.RUnlock()
	return NodeInfo{
		Name:          n.cfg.Name,
		Connections:   n.Connections(),
		Users:         users,
		Channels:      channels,
		Subscriptions: subs,
		Uptime:        time.Since(n.started).Seconds(),
		Draining:      n.draining.Load(),
	}
}
