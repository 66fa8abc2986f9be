package nats

import (
	"context"
	"encoding/json"
	"hash/maphash"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/heraldrt/herald/broker"
)

// subscriber holds the node's core NATS subscriptions: one for control
// messages and one per subscribed channel (never one per client). They
// all feed one Go channel that the node's one delivery goroutine reads,
// so that a subscription costs no goroutine. Lock order: a channel's
// entry in locks, then mu, then a chanState's mu; mu is never held across
// a network call.
type subscriber struct {
	seed  maphash.Seed
	locks [32]sync.Mutex // serialize Subscribe/Unsubscribe of one channel
	msgs  chan *nats.Msg

	mu      sync.Mutex
	chans   map[string]*chanState
	control *nats.Subscription
}

func (s *subscriber) init() {
	s.seed = maphash.MakeSeed()
	s.chans = make(map[string]*chanState)
	s.msgs = make(chan *nats.Msg, deliveryBuffer)
}

func (s *subscriber) lock(channel string) *sync.Mutex {
	return &s.locks[maphash.String(s.seed, channel)%uint64(len(s.locks))]
}

func (s *subscriber) get(channel string) *chanState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.chans[channel]
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
	l := b.sub.lock(channel)
	l.Lock()
	defer l.Unlock()
	if b.sub.get(channel) != nil {
		return nil
	}
	ctx, cancel := b.opCtx(ctx)
	defer cancel()
	tok := channelToken(channel)
	h, err := b.head(ctx, tok)
	if err != nil {
		return b.fail("subscribe", err)
	}
	st := &chanState{epoch: h.epoch, last: h.offset, seq: h.seq}
	b.sub.mu.Lock()
	b.sub.chans[channel] = st
	b.sub.mu.Unlock()
	sub, err := b.nc.ChanSubscribe(b.names.live(tok), b.sub.msgs)
	if err == nil {
		if err = b.nc.FlushWithContext(ctx); err != nil {
			_ = sub.Unsubscribe()
		}
	}
	if err != nil {
		b.sub.mu.Lock()
		delete(b.sub.chans, channel)
		b.sub.mu.Unlock()
		return b.fail("subscribe", err)
	}
	st.mu.Lock()
	st.sub = sub
	st.mu.Unlock()
	return nil
}

// Unsubscribe implements broker.Broker. The channel stops being delivered
// when Unsubscribe returns; the client tells the server when it can.
func (b *Broker) Unsubscribe(_ context.Context, channel string) error {
	if b.closed.Load() {
		return broker.ErrClosed
	}
	l := b.sub.lock(channel)
	l.Lock()
	defer l.Unlock()
	b.sub.mu.Lock()
	st := b.sub.chans[channel]
	delete(b.sub.chans, channel)
	b.sub.mu.Unlock()
	if st == nil {
		return nil
	}
	st.mu.Lock()
	st.gone = true
	sub := st.sub
	st.mu.Unlock()
	if sub != nil {
		if err := sub.Unsubscribe(); err != nil {
			b.opts.Logger.Warn("nats broker: unsubscribe failed", "channel", channel, "err", err)
		}
	}
	return nil
}

// dispatch is the node's one delivery goroutine: it hands every message
// from NATS to the handler, in the connection's order.
func (b *Broker) dispatch() {
	defer b.wg.Done()
	for {
		select {
		case <-b.ctx.Done():
			return
		case m := <-b.sub.msgs:
			b.onMessage(m)
		}
	}
}

func (b *Broker) onMessage(m *nats.Msg) {
	if !b.enter() {
		return
	}
	defer b.leave()
	if m.Subject == b.names.control() {
		b.handler.HandleControl(m.Data)
		return
	}
	tok, ok := b.names.liveToken(m.Subject)
	if !ok || len(m.Data) == 0 {
		return
	}
	ch, err := decodeToken(tok)
	if err != nil {
		return
	}
	st := b.sub.get(ch)
	if st == nil {
		return
	}
	switch m.Data[0] {
	case kindPublication:
		pub, epoch, seq, err := parseLive(m.Data[1:])
		if err != nil {
			b.opts.Logger.Error("nats broker: dropped a malformed publication", "channel", ch, "err", err)
			return
		}
		b.deliver(ch, st, pub, epoch, seq)
	case kindJoin, kindLeave:
		info := new(broker.ClientInfo)
		if err := json.Unmarshal(m.Data[1:], info); err != nil {
			b.opts.Logger.Error("nats broker: dropped a malformed presence message", "channel", ch, "err", err)
			return
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		if st.gone {
			return
		}
		if m.Data[0] == kindJoin {
			b.handler.HandleJoin(ch, info)
		} else {
			b.handler.HandleLeave(ch, info)
		}
	}
}
