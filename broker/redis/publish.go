package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/heraldrt/herald/broker"
	"github.com/redis/rueidis"
)

// Publish implements broker.Broker. A channel with history or an
// idempotency key goes through publish.lua, which assigns the offset,
// appends, trims, sets the TTL, checks and stores the key and PUBLISHes in
// one atomic step; any other publication is a plain PUBLISH. An error
// wrapping broker.ErrUnavailable means Redis did not confirm within
// Options.Timeout: the publication may or may not have been made.
func (b *Broker) Publish(ctx context.Context, channel string, pub *broker.Publication, opts broker.PublishOptions) (broker.PublishResult, error) {
	if b.life.Closed() {
		return broker.PublishResult{}, broker.ErrClosed
	}
	stored := *pub
	stored.Offset = 0
	payload, err := json.Marshal(&stored)
	if err != nil {
		return broker.PublishResult{}, fmt.Errorf("redis: encode publication: %w", err)
	}
	ctx, cancel := b.life.OpCtx(ctx)
	defer cancel()
	if opts.HistorySize <= 0 && opts.IdempotencyKey == "" {
		return broker.PublishResult{}, b.fail("publish", b.publishPlain(ctx, channel, pubMessage(0, "", payload)))
	}

	idemKey, window := b.keys.meta(channel), int64(0)
	if opts.IdempotencyKey != "" {
		idemKey = b.keys.idempotency(channel, opts.IdempotencyKey)
		w := opts.IdempotencyWindow
		if w <= 0 {
			w = DefaultIdempotencyWindow
		}
		window = max(w.Milliseconds(), 1)
	}
	res, err := b.scripts.publish.Exec(ctx, b.client,
		[]string{b.keys.meta(channel), b.keys.stream(channel), idemKey},
		[]string{
			string(payload),
			strconv.Itoa(max(opts.HistorySize, 0)),
			strconv.FormatInt(opts.HistoryTTL.Milliseconds(), 10),
			newEpoch(),
			strconv.FormatInt(window, 10),
			b.keys.pubsub(channel),
		}).ToArray()
	if err != nil {
		return broker.PublishResult{}, b.fail("publish", err)
	}
	if len(res) != 3 {
		return broker.PublishResult{}, fmt.Errorf("redis: publish: script returned %d values, want 3", len(res))
	}
	dup, err1 := res[0].AsInt64()
	offset, err2 := res[1].AsUint64()
	epoch, err3 := res[2].ToString()
	if err1 != nil || err2 != nil || err3 != nil {
		return broker.PublishResult{}, fmt.Errorf("redis: publish: unexpected script result %v", res)
	}
	if dup == 0 {
		pub.Offset = offset
	}
	return broker.PublishResult{StreamPosition: broker.StreamPosition{Offset: offset, Epoch: epoch}, Duplicate: dup == 1}, nil
}

// PublishControl implements broker.Broker: one PUBLISH on the control
// channel, which every node's pub/sub connection listens to.
func (b *Broker) PublishControl(ctx context.Context, data []byte) error {
	if b.life.Closed() {
		return broker.ErrClosed
	}
	ctx, cancel := b.life.OpCtx(ctx)
	defer cancel()
	err := b.client.Do(ctx, b.client.B().Publish().Channel(b.keys.control()).Message(string(data)).Build()).Error()
	return b.fail("publish control", err)
}

// sendPresence is announce.Announcer's Send: one PUBLISH on the
// channel's pub/sub channel.
func (b *Broker) sendPresence(ctx context.Context, channel string, msg []byte) error {
	if b.life.Closed() {
		return broker.ErrClosed
	}
	ctx, cancel := b.life.OpCtx(ctx)
	defer cancel()
	return b.fail("publish presence", b.publishPlain(ctx, channel, string(msg)))
}

// publishPlain PUBLISHes msg on channel's pub/sub channel. On a Redis
// Cluster it goes through the node that owns the channel's slot
// (publish_plain.lua), so that the channel's messages keep their order:
// a keyless PUBLISH would go to any node.
func (b *Broker) publishPlain(ctx context.Context, channel, msg string) error {
	if b.client.Mode() == rueidis.ClientModeCluster {
		return b.scripts.publishPlain.Exec(ctx, b.client, []string{b.keys.meta(channel)}, []string{b.keys.pubsub(channel), msg}).Error()
	}
	return b.client.Do(ctx, b.client.B().Publish().Channel(b.keys.pubsub(channel)).Message(msg).Build()).Error()
}
