package redis

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/redis/rueidis"

	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/broker/internal/tracker"
)

var errDisconnected = errors.New("pub/sub connection is down")

// subscriber is the node's one pub/sub connection. Which channels it
// listens to is the tracker's: connectPubSub sets conn before it lists
// them, and Subscribe registers a channel before it reads conn, so that a
// channel subscribed during a reconnect is subscribed on the new
// connection by one of the two.
type subscriber struct {
	mu   sync.Mutex
	conn rueidis.DedicatedClient // nil while disconnected
}

// get returns the pub/sub connection, nil while disconnected.
func (s *subscriber) get() rueidis.DedicatedClient {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn
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
	if b.life.Closed() {
		return broker.ErrClosed
	}
	return b.fail("subscribe", b.tracker.Subscribe(ctx, channel, func(ctx context.Context) (func(context.Context), error) {
		conn := b.sub.get()
		if conn == nil {
			return nil, errDisconnected
		}
		if err := conn.Do(ctx, conn.B().Subscribe().Channel(b.keys.pubsub(channel)).Build()).Error(); err != nil {
			return nil, err
		}
		return func(ctx context.Context) { b.unsubscribe(ctx, channel) }, nil
	}))
}

// Unsubscribe implements broker.Broker. The channel stops being delivered
// when Unsubscribe returns, even if Redis could not be told (then the
// Redis subscription lasts until the connection is next replaced).
func (b *Broker) Unsubscribe(ctx context.Context, channel string) error {
	return b.tracker.Unsubscribe(ctx, channel)
}

// unsubscribe tells Redis, on the current connection if there is one.
func (b *Broker) unsubscribe(ctx context.Context, channel string) {
	conn := b.sub.get()
	if conn == nil {
		return
	}
	ctx, cancel := b.life.OpCtx(ctx)
	defer cancel()
	if err := conn.Do(ctx, conn.B().Unsubscribe().Channel(b.keys.pubsub(channel)).Build()).Error(); err != nil {
		b.opts.Logger.Warn("redis broker: unsubscribe failed; the subscription ends with the connection", "channel", channel, "err", err)
	}
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
	b.sub.mu.Unlock()
	chans := b.tracker.Channels()
	names := make([]string, 0, len(chans)+1)
	names = append(names, b.keys.control())
	for _, ch := range chans {
		names = append(names, b.keys.pubsub(ch))
	}

	for len(names) > 0 {
		n := min(len(names), subscribeBatch)
		ctx, cancel := b.life.OpCtx(ctx)
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
	for {
		select {
		case <-b.life.Context().Done():
			return
		case err := <-lost:
			b.opts.Logger.Warn("redis broker: pub/sub connection lost; reconnecting", "err", err)
			b.sub.disconnect()
		}
		delay := 50 * time.Millisecond
		for {
			// Full jitter keeps a fleet of nodes from reconnecting in step.
			select {
			case <-b.life.Context().Done():
				return
			case <-time.After(rand.N(delay) + time.Millisecond):
			}
			var err error
			if lost, err = b.connectPubSub(b.life.Context()); err == nil {
				break
			}
			b.opts.Logger.Warn("redis broker: pub/sub reconnect failed", "err", err, "retry_within", delay)
			delay = min(2*delay, 2*time.Second)
		}
		b.opts.Logger.Info("redis broker: pub/sub connection restored")
		b.tracker.CatchUpAll()
	}
}

// onMessage is the pub/sub connection's hook: rueidis calls it for one
// message at a time, in the connection's order.
func (b *Broker) onMessage(m rueidis.PubSubMessage) {
	if !b.life.Enter() {
		return
	}
	defer b.life.Leave()
	if m.Channel == b.keys.control() {
		b.handler.HandleControl([]byte(m.Message))
		return
	}
	if ch, ok := b.keys.channelOf(m.Channel); ok {
		tracker.Receive(b.tracker, ch, m.Message, parseLive)
	}
}

// parseLive is parsePub as tracker.Receive takes it: Redis has no Seq.
func parseLive(body string) (*broker.Publication, string, uint64, error) {
	pub, epoch, err := parsePub(body)
	return pub, epoch, 0, err
}
