package herald

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/protocol"
)

// PublishOption changes one Publish or Broadcast.
type PublishOption func(*publishOptions)

type publishOptions struct {
	key    string
	info   *protocol.ClientInfo
	binary bool // data is raw bytes, not JSON
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

// PublishBinary publishes raw bytes, as Publish publishes JSON: a binary
// publication, which clients of the binary encoding receive as bytes and
// JSON clients as base64 with "binary":true (docs/protocol.md, section
// 2.7). The node keeps data: do not modify it afterwards.
func (n *Node) PublishBinary(ctx context.Context, channel string, data []byte, opts ...PublishOption) (PublishResult, error) {
	o := publishOptions{binary: true}
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
	d, valid := data, true
	if o.binary {
		if d == nil {
			d = json.RawMessage{} // zero bytes, not no data
		}
	} else if d, valid = protocol.Compact(data); !valid {
		return PublishResult{}, ErrInvalidData
	}
	pub := &broker.Publication{Data: d, Binary: o.binary, Info: o.info, Key: o.key, Time: time.Now().UnixMilli()}
	res, err := n.broker.Publish(ctx, channel, pub, broker.PublishOptions{
		HistorySize:       opts.HistorySize,
		HistoryTTL:        opts.HistoryTTL,
		IdempotencyKey:    o.key,
		IdempotencyWindow: n.cfg.IdempotencyWindow,
	})
	if err != nil {
		return PublishResult{}, fmt.Errorf("herald: publish to %q: %w", channel, err)
	}
	if !res.Duplicate {
		n.notifyPublished(channel, d, o.binary, res.Offset, o.info)
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
	return n.broadcast(ctx, channels, d, o), nil
}

// BroadcastBinary publishes the same raw bytes to several channels, as
// Broadcast publishes JSON (see PublishBinary).
func (n *Node) BroadcastBinary(ctx context.Context, channels []string, data []byte, opts ...PublishOption) []BroadcastResult {
	o := publishOptions{binary: true}
	for _, fn := range opts {
		fn(&o)
	}
	return n.broadcast(ctx, channels, data, o)
}

func (n *Node) broadcast(ctx context.Context, channels []string, d []byte, o publishOptions) []BroadcastResult {
	out := make([]BroadcastResult, len(channels))
	for i, ch := range channels {
		res, err := n.publish(ctx, ch, d, o)
		out[i] = BroadcastResult{Channel: ch, PublishResult: res, Err: err}
	}
	return out
}

func (s *Session) handlePublish(ctx context.Context, cmd *protocol.Command) result {
	if cmd.Channel == "" {
		return fail(protocol.NewError(protocol.CodeBadRequest, "publish needs a channel"))
	}
	if len(cmd.Data) == 0 && !(cmd.Binary && cmd.Data != nil) { // zero bytes are binary data
		return fail(protocol.NewError(protocol.CodeBadRequest, "publish needs data"))
	}
	if err := s.authorizePrivate(ctx, cmd.Channel, actPublish, ""); err != nil {
		return fail(err)
	}
	ev := &PublishEvent{Channel: cmd.Channel, Data: cmd.Data, Key: cmd.Key, Binary: cmd.Binary}
	if h := s.node.handlers.Load().publish; h != nil {
		if err := h(ctx, s, ev); err != nil {
			return fail(err)
		}
	} else if err := s.authorize(ctx, cmd.Channel, actPublish, ""); err != nil {
		return fail(err)
	}
	res, err := s.node.publish(ctx, ev.Channel, ev.Data, publishOptions{key: ev.Key, info: s.clientInfo(), binary: ev.Binary})
	if err != nil {
		return fail(err)
	}
	return ok(&protocol.PublishResult{Offset: res.Offset, Epoch: res.Epoch})
}

// handleStateLoss runs when the broker could not deliver every
// publication of channel to this node in order (it lost its connection,
// or history no longer held what was missed). Delivery on the channel is
// then no longer gap-free here, so each local subscriber is disconnected
// with CloseInsufficientState: its client reconnects and resubscribes with
// recovery, and gets the missed publications from history or is told
// recovered:false. No client silently misses a publication.
func (n *Node) handleStateLoss(channel string) {
	sessions := n.hub.sessions(channel)
	if len(sessions) == 0 {
		return
	}
	n.log.Warn("the broker lost publications of a channel; its subscribers reconnect to recover", "channel", channel, "subscribers", len(sessions))
	n.metrics.stateLosses.Inc()
	for _, s := range sessions {
		s.closeWith(protocol.CloseInsufficientState, "")
	}
}

// handlePublication encodes a publication the broker delivered once per
// encoding its local subscribers use (hub.broadcast) and hands the same
// bytes to every subscriber of that encoding.
func (n *Node) handlePublication(channel string, pub *broker.Publication, epoch string) {
	subscribers := n.hub.broadcast(channel, pub, epoch)
	n.metrics.fannedOut(pub.Time, subscribers)
}
