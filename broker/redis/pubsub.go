package redis

import (
	"context"
	"hash/maphash"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/redis/rueidis"

	"github.com/heraldrt/herald/broker"
)

// subscriber is the node's one pub/sub connection and the channels it
// listens to. Lock order: a channel's entry in locks, then mu, then a
// chanState's mu; mu is never held across a network call.
type subscriber struct {
	seed  maphash.Seed
	locks [32]sync.Mutex // serialize Subscribe/Unsubscribe of one channel

	mu    sync.Mutex
	conn  rueidis.DedicatedClient // nil while disconnected
	chans map[string]*chanState
}

func (s *subscriber) init() {
	s.seed = maphash.MakeSeed()
	s.chans = make(map[string]*chanState)
}

func (s *subscriber) lock(channel string) *sync.Mutex {
	return &s.locks[maphash.String(s.seed, channel)%uint64(len(s.locks))]
}

func (s *subscriber) get(channel string) *chanState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.chans[channel]
}

// disconnect closes the pub/sub connection, if there is one.
func (s *subscriber) disconnect() {
	s.mu.Lock()
	conn := s.conn
	s.conn = nil
	s.mu.Unlock()
	if conn != nil {
		conn.Close()
	}
}

// subscribeBatch is how many channels one SUBSCRIBE names on reconnect.
const subscribeBatch = 512

// Subscribe implements broker.Broker: the node's pub/sub connection
// subscribes to the channel's pub/sub channel (once per node, however many
// clients). The stream's position is read first, so that publications made
// while the subscription is set up are filled from history in order.
func (b *Broker) Subscribe(ctx context.Context, channel string) error {
	if b.closed.Load() {
		return broker.ErrClosed
	}
	l := b.sub.lock(channel)
	l.Lock()
	defer l.Unlock()
	if b.sub.get(channel) != nil {
		return nil
	}
	ctx, cancel := b.opCtx(ctx)
	defer cancel()
	pos, err := b.readStream(ctx, channel, broker.HistoryOptions{}, false)
	if err != nil {
		return b.fail("subscribe", err)
	}
	st := &chanState{epoch: pos.Position.Epoch, last: pos.Position.Offset}
	b.sub.mu.Lock()
	b.sub.chans[channel] = st
	conn := b.sub.conn
	b.sub.mu.Unlock()
	if conn == nil {
		err = errDisconnected
	} else {
		err = conn.Do(ctx, conn.B().Subscribe().Channel(b.keys.pubsub(channel)).Build()).Error()
	}
	if err != nil {
		b.sub.mu.Lock()
		delete(b.sub.chans, channel)
		b.sub.mu.Unlock()
		return b.fail("subscribe", err)
	}
	return nil
}

// Unsubscribe implements broker.Broker. The channel stops being delivered
// when Unsubscribe returns, even if Redis could not be told (then the
// Redis subscription lasts until the connection is next replaced).
func (b *Broker) Unsubscribe(ctx context.Context, channel string) error {
	if b.closed.Load() {
		return broker.ErrClosed
	}
	l := b.sub.lock(channel)
	l.Lock()
	defer l.Unlock()
	b.sub.mu.Lock()
	st := b.sub.chans[channel]
	delete(b.sub.chans, channel)
	conn := b.sub.conn
	b.sub.mu.Unlock()
	if st == nil {
		return nil
	}
	st.mu.Lock()
	st.gone = true
	st.mu.Unlock()
	if conn != nil {
		ctx, cancel := b.opCtx(ctx)
		defer cancel()
		if err := conn.Do(ctx, conn.B().Unsubscribe().Channel(b.keys.pubsub(channel)).Build()).Error(); err != nil {
			b.opts.Logger.Warn("redis broker: unsubscribe failed; the subscription ends with the connection", "channel", channel, "err", err)
		}
	}
	return nil
}

// connectPubSub opens a pub/sub connection and subscribes it to the
// control channel and every channel the node listens to. The returned
// channel reports when the connection is lost.
func (b *Broker) connectPubSub(ctx context.Context) (<-chan error, error) {
	client := b.client
	if client.Mode() == rueidis.ClientModeCluster {
		// Plain pub/sub reaches every node of a cluster: listen on any one.
		for _, c := range client.Nodes() {
			client = c
			break
		}
	}
	conn, _ := client.Dedicate()
	lost := conn.SetPubSubHooks(rueidis.PubSubHooks{OnMessage: b.onMessage})

	b.sub.mu.Lock()
	b.sub.conn = conn
	names := make([]string, 0, len(b.sub.chans)+1)
	names = append(names, b.keys.control())
	for ch := range b.sub.chans {
		names = append(names, b.keys.pubsub(ch))
	}
	b.sub.mu.Unlock()

	for len(names) > 0 {
		n := min(len(names), subscribeBatch)
		ctx, cancel := b.opCtx(ctx)
		err := conn.Do(ctx, conn.B().Subscribe().Channel(names[:n]...).Build()).Error()
		cancel()
		if err != nil {
			b.sub.disconnect()
			return nil, b.fail("subscribe", err)
		}
		names = names[n:]
	}
	return lost, nil
}

// runPubSub keeps the pub/sub connection open: when it is lost it
// reconnects with backoff, resubscribes, and catches every channel with
// history up with its stream.
func (b *Broker) runPubSub(lost <-chan error) {
	defer b.wg.Done()
	for {
		select {
		case <-b.ctx.Done():
			return
		case err := <-lost:
			b.opts.Logger.Warn("redis broker: pub/sub connection lost; reconnecting", "err", err)
			b.sub.disconnect()
		}
		delay := 50 * time.Millisecond
		for {
			// Full jitter keeps a fleet of nodes from reconnecting in step.
			select {
			case <-b.ctx.Done():
				return
			case <-time.After(rand.N(delay) + time.Millisecond):
			}
			var err error
			if lost, err = b.connectPubSub(b.ctx); err == nil {
				break
			}
			b.opts.Logger.Warn("redis broker: pub/sub reconnect failed", "err", err, "retry_within", delay)
			delay = min(2*delay, 2*time.Second)
		}
		b.opts.Logger.Info("redis broker: pub/sub connection restored")
		b.resync()
	}
}

// onMessage is the pub/sub connection's hook: rueidis calls it for one
// message at a time, in the connection's order.
func (b *Broker) onMessage(m rueidis.PubSubMessage) {
	if !b.enter() {
		return
	}
	defer b.leave()
	if m.Channel == b.keys.control() {
		b.handler.HandleControl([]byte(m.Message))
		return
	}
	ch, ok := b.keys.channelOf(m.Channel)
	if !ok || m.Message == "" {
		return
	}
	st := b.sub.get(ch)
	if st == nil {
		return
	}
	switch m.Message[0] {
	case kindPublication:
		pub, epoch, err := parsePub(m.Message[1:])
		if err != nil {
			b.opts.Logger.Error("redis broker: dropped a malformed publication", "channel", ch, "err", err)
			return
		}
		b.deliver(ch, st, pub, epoch)
	case kindJoin, kindLeave:
		info, err := parseInfo(m.Message[1:])
		if err != nil {
			b.opts.Logger.Error("redis broker: dropped a malformed presence message", "channel", ch, "err", err)
			return
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		if st.gone {
			return
		}
		if m.Message[0] == kindJoin {
			b.handler.HandleJoin(ch, info)
		} else {
			b.handler.HandleLeave(ch, info)
		}
	}
}
