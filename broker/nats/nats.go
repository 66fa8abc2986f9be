package nats

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldrt/herald/broker"
)

// Broker is a Herald broker on NATS: core subjects between nodes, history
// and idempotency keys in JetStream, presence in a JetStream key-value
// bucket. It implements broker.Broker, broker.PresenceStore and
// broker.Pinger. Create it with New; it is safe for concurrent use.
type Broker struct {
	nc    *nats.Conn
	js    jetstream.JetStream
	opts  Options
	names names
	ctx   context.Context // ends at Close
	// cancel ends ctx.
	cancel context.CancelFunc

	started atomic.Bool
	closed  atomic.Bool
	handler broker.EventHandler
	// gate lets Close wait for handler calls in flight: deliveries hold it
	// for reading and give up once closed is set.
	gate sync.RWMutex

	// store holds the handles of the streams and the bucket; Start sets
	// it, and a reconnect to a server that lost them sets it again.
	store atomic.Pointer[store]

	// pubLocks serialize one node's publishes to one channel, so that
	// they never race each other for an offset (only other nodes can).
	seed     maphash.Seed
	pubLocks [64]sync.Mutex

	sub      subscriber
	presence presenceOwner
	trim     chan trimJob  // publications to drop from history, done in the background
	resync   chan struct{} // a reconnect happened: catch up every channel
	wg       sync.WaitGroup
}

var (
	_ broker.Broker        = (*Broker)(nil)
	_ broker.PresenceStore = (*Broker)(nil)
	_ broker.Pinger        = (*Broker)(nil)
)

// deliveryBuffer is how many messages from NATS wait for the node's one
// delivery goroutine. When it is full the client drops messages (a slow
// consumer): publications with history are then filled from the stream.
const deliveryBuffer = 1 << 16

// New connects to the NATS servers that url names (see the package
// documentation for the forms) and returns a broker that is not started
// yet. It fails with an error wrapping ErrInvalidURL when the URL or an
// option is wrong, and with one wrapping broker.ErrUnavailable when no
// server can be reached.
func New(url string, opts Options) (*Broker, error) {
	t, err := parseURL(url)
	if err != nil {
		return nil, err
	}
	if opts, err = opts.withDefaults(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Broker{
		opts: opts, names: names{prefix: opts.Prefix}, ctx: ctx, cancel: cancel,
		seed: maphash.MakeSeed(), trim: make(chan trimJob, 1024), resync: make(chan struct{}, 1),
	}
	b.sub.init()
	b.presence.init()
	copts, err := b.connectOptions(t)
	if err != nil {
		cancel()
		return nil, err
	}
	nc, err := nats.Connect(t.servers, copts...)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("nats: connect to %s: %w: %w", t.redacted, broker.ErrUnavailable, err)
	}
	b.nc = nc
	if b.js, err = jetstream.New(nc); err != nil {
		nc.Close()
		cancel()
		return nil, fmt.Errorf("nats: %w", err)
	}
	return b, nil
}

// connectOptions turns the URL's settings and Options into nats.go's.
func (b *Broker) connectOptions(t target) ([]nats.Option, error) {
	o := b.opts
	copts := []nats.Option{
		nats.Name(o.Name),
		nats.Timeout(o.Timeout),
		// A stalled server is given up on when a third ping is due with
		// two unanswered: after about 3×Timeout.
		nats.PingInterval(o.Timeout),
		nats.MaxPingsOutstanding(2),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(100 * time.Millisecond),
		nats.ReconnectJitter(100*time.Millisecond, time.Second),
		nats.NoCallbacksAfterClientClose(),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			o.Logger.Warn("nats broker: connection lost; reconnecting", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			o.Logger.Info("nats broker: reconnected", "server", nc.ConnectedUrlRedacted())
			b.kickResync()
		}),
		nats.ErrorHandler(func(_ *nats.Conn, s *nats.Subscription, err error) {
			if s != nil && s.Subject == b.names.control() || errors.Is(err, nats.ErrSlowConsumer) {
				o.Logger.Warn("nats broker: dropped messages (the node's delivery is behind); channels with history are filled from it", "err", err)
				return
			}
			o.Logger.Warn("nats broker: asynchronous error", "err", err)
		}),
	}
	creds, nkey := o.CredsFile, o.NKeySeedFile
	if creds == "" && nkey == "" {
		creds, nkey = t.creds, t.nkey
	}
	if creds != "" && nkey != "" {
		return nil, fmt.Errorf("%w: a credentials file and an NKey seed file both given: use one", ErrInvalidURL)
	}
	if creds != "" {
		copts = append(copts, nats.UserCredentials(creds))
	}
	if nkey != "" {
		opt, err := nats.NkeyOptionFromSeed(nkey)
		if err != nil {
			return nil, fmt.Errorf("%w: NKey seed file %q: %w", ErrInvalidURL, nkey, err)
		}
		copts = append(copts, opt)
	}
	switch {
	case o.TLSConfig != nil:
		copts = append(copts, nats.Secure(o.TLSConfig))
	case t.tls:
		copts = append(copts, nats.Secure())
		if t.tlsCA != "" {
			copts = append(copts, nats.RootCAs(t.tlsCA))
		}
		if t.tlsCert != "" {
			copts = append(copts, nats.ClientCert(t.tlsCert, t.tlsKey))
		}
	}
	return copts, nil
}

// Start implements broker.Broker: it creates or updates the streams and
// the bucket (failing with broker.ErrUnavailable if JetStream does not
// answer), subscribes to control messages and starts the delivery loop,
// the reconnect catch-up, the presence refresher and the history trimmer.
func (b *Broker) Start(ctx context.Context, h broker.EventHandler) error {
	if b.closed.Load() {
		return broker.ErrClosed
	}
	if !b.started.CompareAndSwap(false, true) {
		return errors.New("nats: Start called twice")
	}
	b.handler = h
	ctx, cancel := b.opCtx(ctx)
	defer cancel()
	if err := b.ensureStore(ctx); err != nil {
		b.started.Store(false)
		return b.fail("start", err)
	}
	if err := b.sub.listenControl(ctx, b); err != nil {
		b.started.Store(false)
		return b.fail("start", err)
	}
	b.wg.Add(5)
	go b.checkPositions()
	go b.dispatch()
	go b.runResync()
	go b.refreshPresence()
	go b.runTrimmer()
	return nil
}

// Ping implements broker.Pinger: it fails while the client is not
// connected, or JetStream does not answer within Options.Timeout.
func (b *Broker) Ping(ctx context.Context) error {
	if err := b.ready(); err != nil {
		return err
	}
	ctx, cancel := b.opCtx(ctx)
	defer cancel()
	_, err := b.js.AccountInfo(ctx)
	return b.fail("ping", err)
}

// Close implements broker.Broker: it stops delivery, waits for the handler
// calls in flight and the broker's goroutines, and closes the connection.
func (b *Broker) Close(context.Context) error {
	if !b.closed.CompareAndSwap(false, true) {
		return nil
	}
	b.cancel()
	b.gate.Lock() // wait for deliveries in flight
	b.gate.Unlock()
	b.wg.Wait()
	b.nc.Close()
	return nil
}

// ready fails fast, before any request: after Close, and while the
// client is not connected (a request would only wait for its timeout).
func (b *Broker) ready() error {
	if b.closed.Load() {
		return broker.ErrClosed
	}
	if !b.nc.IsConnected() {
		return fmt.Errorf("nats: not connected (%s): %w", b.nc.Status(), broker.ErrUnavailable)
	}
	return nil
}

// opCtx bounds one operation by Options.Timeout and by Close.
func (b *Broker) opCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, b.opts.Timeout)
	stop := context.AfterFunc(b.ctx, cancel)
	return ctx, func() { stop(); cancel() }
}

// fail turns a client error into the error a caller sees: nil stays nil,
// ErrClosed after Close, a JetStream API error as it is (it says what is
// wrong with the request) unless it means JetStream cannot serve now, and
// anything else (timeouts, no responders, a lost connection) wrapped in
// broker.ErrUnavailable. A stream that is gone (the server lost its data)
// makes the broker create it again in the background.
func (b *Broker) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	if b.closed.Load() {
		return fmt.Errorf("nats: %s: %w", op, broker.ErrClosed)
	}
	if errors.Is(err, broker.ErrUnavailable) || errors.Is(err, broker.ErrClosed) {
		return fmt.Errorf("nats: %s: %w", op, err)
	}
	if storeLost(err) {
		b.kickResync()
		return fmt.Errorf("nats: %s: %w: JetStream lost the broker's streams; recreating them: %w", op, broker.ErrUnavailable, err)
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.Code < 500 && apiErr.Code != 408 {
		return fmt.Errorf("nats: %s: %w", op, err)
	}
	return fmt.Errorf("nats: %s: %w: %w", op, broker.ErrUnavailable, err)
}

// storeLost reports whether err says a stream or the bucket is missing.
func storeLost(err error) bool {
	return errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, jetstream.ErrStreamNotFound) ||
		errors.Is(err, jetstream.ErrBucketNotFound) || errors.Is(err, nats.ErrNoResponders)
}

// enter is called before a call into the handler; it returns false once
// the broker is closing. A true result must be paired with leave.
func (b *Broker) enter() bool {
	b.gate.RLock()
	if b.closed.Load() {
		b.gate.RUnlock()
		return false
	}
	return true
}

func (b *Broker) leave() { b.gate.RUnlock() }

func (b *Broker) pubLock(channel string) *sync.Mutex {
	return &b.pubLocks[maphash.String(b.seed, channel)%uint64(len(b.pubLocks))]
}

var epochEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newEpoch returns a random 8-character epoch name.
func newEpoch() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return epochEncoding.EncodeToString(b[:])
}
