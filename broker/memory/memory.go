// Package memory is Herald's embedded broker: publications, history and
// idempotency keys live in this process. It is the default for a single node
// and needs no outside service. History is lost on restart, which the broker
// signals the only way it can: every stream starts in a new epoch.
package memory

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldrt/herald/broker"
)

const shardCount = 64

// emptyStreamIdle is how long a stream that never had a publication is kept
// after it was last read.
const emptyStreamIdle = time.Hour

// DefaultIdempotencyWindow is used when PublishOptions.IdempotencyWindow is 0.
const DefaultIdempotencyWindow = 2 * time.Minute

// Broker is the in-memory broker. Create it with New.
type Broker struct {
	seed    maphash.Seed
	shards  [shardCount]shard
	handler broker.EventHandler
	started atomic.Bool
	closed  atomic.Bool
	now     func() time.Time
	stop    chan struct{}
	done    chan struct{}
}

var _ broker.Broker = (*Broker)(nil)

type shard struct {
	mu       sync.Mutex
	streams  map[string]*stream
	subs     map[string]struct{}
	presence map[string]map[string]*broker.ClientInfo // channel -> client -> info
}

// stream returns channel's stream, or nil. One whose history expired is
// replaced first: its history is lost (a new epoch), its idempotency keys
// are not, as they have their own window. s.mu is held.
func (s *shard) stream(channel string, now time.Time) *stream {
	st := s.streams[channel]
	if st != nil && st.expired(now) {
		st = st.reborn()
		s.streams[channel] = st
	}
	return st
}

// Options configure a Broker.
type Options struct {
	// Now replaces time.Now, for tests of expiry.
	Now func() time.Time
	// SweepInterval is how often expired streams are freed (default 1 min).
	SweepInterval time.Duration
}

// New returns an in-memory broker.
func New(opts ...Options) *Broker {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SweepInterval <= 0 {
		o.SweepInterval = time.Minute
	}
	b := &Broker{seed: maphash.MakeSeed(), now: o.Now, stop: make(chan struct{}), done: make(chan struct{})}
	for i := range b.shards {
		b.shards[i].streams = make(map[string]*stream)
		b.shards[i].subs = make(map[string]struct{})
		b.shards[i].presence = make(map[string]map[string]*broker.ClientInfo)
	}
	go b.sweep(o.SweepInterval)
	return b
}

func (b *Broker) shard(channel string) *shard {
	return &b.shards[maphash.String(b.seed, channel)%shardCount]
}

// lockShard returns channel's shard with its lock held, or ErrClosed once
// the broker is closed. The caller unlocks s.mu.
func (b *Broker) lockShard(channel string) (*shard, error) {
	if b.closed.Load() {
		return nil, broker.ErrClosed
	}
	s := b.shard(channel)
	s.mu.Lock()
	return s, nil
}

// Start implements broker.Broker.
func (b *Broker) Start(_ context.Context, h broker.EventHandler) error {
	if b.closed.Load() {
		return broker.ErrClosed
	}
	b.handler = h
	b.started.Store(true)
	return nil
}

// Subscribe implements broker.Broker.
func (b *Broker) Subscribe(_ context.Context, channel string) error {
	s, err := b.lockShard(channel)
	if err != nil {
		return err
	}
	s.subs[channel] = struct{}{}
	s.mu.Unlock()
	return nil
}

// Unsubscribe implements broker.Broker.
func (b *Broker) Unsubscribe(_ context.Context, channel string) error {
	s, err := b.lockShard(channel)
	if err != nil {
		return err
	}
	delete(s.subs, channel)
	s.mu.Unlock()
	return nil
}

// Publish implements broker.Broker. The channel's shard stays locked while
// the node's handler runs, which is what keeps one channel's deliveries in
// offset order.
func (b *Broker) Publish(_ context.Context, channel string, pub *broker.Publication, opts broker.PublishOptions) (broker.PublishResult, error) {
	now := b.now()
	s, err := b.lockShard(channel)
	if err != nil {
		return broker.PublishResult{}, err
	}
	defer s.mu.Unlock()

	st := s.stream(channel, now)
	keep := opts.HistorySize > 0 || opts.IdempotencyKey != ""
	if st == nil && keep {
		st = newStream(opts.HistorySize)
		s.streams[channel] = st
	}
	var epoch string
	if st != nil {
		st.ttl = opts.HistoryTTL
		st.lastPublish = now
		st.lastAccess = now
		if opts.IdempotencyKey != "" {
			if pos, ok := st.seen(opts.IdempotencyKey, now); ok {
				return broker.PublishResult{StreamPosition: pos, Duplicate: true}, nil
			}
		}
		if opts.HistorySize > 0 {
			st.append(pub, opts.HistorySize)
			epoch = st.epoch
		}
		if opts.IdempotencyKey != "" {
			window := opts.IdempotencyWindow
			if window <= 0 {
				window = DefaultIdempotencyWindow
			}
			st.remember(opts.IdempotencyKey, broker.StreamPosition{Offset: pub.Offset, Epoch: epoch}, now.Add(window))
		}
	}
	if _, ok := s.subs[channel]; ok && b.handler != nil {
		b.handler.HandlePublication(channel, pub, epoch)
	}
	return broker.PublishResult{StreamPosition: broker.StreamPosition{Offset: pub.Offset, Epoch: epoch}}, nil
}

// PublishControl implements broker.Broker: with one node, control messages
// go straight back to it.
func (b *Broker) PublishControl(_ context.Context, data []byte) error {
	if b.closed.Load() {
		return broker.ErrClosed
	}
	if b.handler != nil {
		b.handler.HandleControl(data)
	}
	return nil
}

// History implements broker.Broker.
func (b *Broker) History(_ context.Context, channel string, opts broker.HistoryOptions) (broker.HistoryResult, error) {
	now := b.now()
	s, err := b.lockShard(channel)
	if err != nil {
		return broker.HistoryResult{}, err
	}
	defer s.mu.Unlock()
	st := s.stream(channel, now)
	if st == nil {
		// An empty stream is created so that the epoch a subscriber is told
		// stays the stream's epoch when the first publication arrives.
		st = newStream(0)
		s.streams[channel] = st
	}
	st.lastAccess = now
	return st.read(opts), nil
}

// Close implements broker.Broker.
func (b *Broker) Close(context.Context) error {
	if b.closed.CompareAndSwap(false, true) {
		close(b.stop)
		<-b.done
	}
	return nil
}

// sweep frees expired streams and idempotency keys now and then, so that
// channels nobody publishes to again do not hold memory.
func (b *Broker) sweep(every time.Duration) {
	defer close(b.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
		}
		now := b.now()
		for i := range b.shards {
			s := &b.shards[i]
			s.mu.Lock()
			for ch, st := range s.streams {
				st.forget(now)
				_, subscribed := s.subs[ch]
				switch {
				case st.expired(now) && len(st.keys) > 0:
					s.streams[ch] = st.reborn()
				case st.expired(now):
					delete(s.streams, ch)
				case st.top == 0 && len(st.keys) == 0 && !subscribed && now.Sub(st.lastAccess) > emptyStreamIdle:
					// Never published to, and nobody here listens.
					delete(s.streams, ch)
				}
			}
			s.mu.Unlock()
		}
	}
}

var epochEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newEpoch returns a random 8-character epoch name.
func newEpoch() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return epochEncoding.EncodeToString(b[:])
}

// Ping implements broker.Pinger: the memory broker is reachable until it
// is closed.
func (b *Broker) Ping(context.Context) error {
	if b.closed.Load() {
		return broker.ErrClosed
	}
	return nil
}
