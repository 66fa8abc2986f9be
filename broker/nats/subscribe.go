package nats

import (
	"context"

	"github.com/nats-io/nats.go"

	"github.com/heraldrt/herald/broker/internal/tracker"
)

// subscriber holds the node's core NATS subscriptions: one for control
// messages and one per subscribed channel (never one per client; the
// tracker keeps which). They all feed one Go channel that the node's one
// delivery goroutine reads, so that a subscription costs no goroutine.
type subscriber struct {
	msgs    chan *nats.Msg
	control *nats.Subscription
}

func (s *subscriber) init() {
	s.msgs = make(chan *nats.Msg, deliveryBuffer)
}

// listenControl subscribes to the control subject.
func (s *subscriber) listenControl(ctx context.Context, b *Broker) error {
	sub, err := b.nc.ChanSubscribe(b.names.control(), s.msgs)
	if err != nil {
		return err
	}
	if err := b.nc.FlushWithContext(ctx); err != nil {
		_ = sub.Unsubscribe()
		return err
	}
	s.control = sub
	return nil
}

// Subscribe implements broker.Broker: the node subscribes to the
// channel's live subject (once, however many clients). The channel's
// position is read first, so that publications made while the
// subscription is set up are filled from history in order, and the
// subscription is confirmed by the server before Subscribe returns.
func (b *Broker) Subscribe(ctx context.Context, channel string) error {
	if err := b.ready(); err != nil {
		return err
	}
	return b.fail("subscribe", b.tracker.Subscribe(ctx, channel, func(ctx context.Context) (func(context.Context), error) {
		sub, err := b.nc.ChanSubscribe(b.names.live(channelToken(channel)), b.sub.msgs)
		if err != nil {
			return nil, err
		}
		if err := b.nc.FlushWithContext(ctx); err != nil {
			_ = sub.Unsubscribe()
			return nil, err
		}
		return func(context.Context) {
			if err := sub.Unsubscribe(); err != nil {
				b.opts.Logger.Warn("nats broker: unsubscribe failed", "channel", channel, "err", err)
			}
		}, nil
	}))
}

// Unsubscribe implements broker.Broker. The channel stops being delivered
// when Unsubscribe returns; the client tells the server when it can.
func (b *Broker) Unsubscribe(ctx context.Context, channel string) error {
	return b.tracker.Unsubscribe(ctx, channel)
}

// onMessage hands one message from NATS to the handler. The node's one
// delivery goroutine (Start) calls it for every message, in the
// connection's order.
func (b *Broker) onMessage(m *nats.Msg) {
	if !b.life.Enter() {
		return
	}
	defer b.life.Leave()
	if m.Subject == b.names.control() {
		b.handler.HandleControl(m.Data)
		return
	}
	tok, ok := b.names.liveToken(m.Subject)
	if !ok {
		return
	}
	if ch, err := decodeToken(tok); err == nil {
		tracker.Receive(b.tracker, ch, m.Data, parseLive)
	}
}
