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
	"github.com/heraldrt/herald/broker/internal/announce"
	"github.com/heraldrt/herald/broker/internal/lifecycle"
	"github.com/heraldrt/herald/broker/internal/tracker"
)

// Broker is a Herald broker on NATS: core subjects between nodes, history
// and idempotency keys in JetStream, presence in a JetStream key-value
// bucket. It implements broker.Broker, broker.PresenceStore and
// broker.Pinger. Create it with New; it is safe for concurrent use.
type Broker struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	opts    Options
	names   names
	life    *lifecycle.Lifecycle
	handler broker.EventHandler
	tracker *tracker.Tracker // what each subscribed channel was delivered

	// store holds the handles of the streams and the bucket; Start sets
	// it, and a reconnect to a server that lost them sets it again.
	store atomic.Pointer[store]

	// pubLocks serialize one node's publishes to one channel, so that
	// they never race each other for an offset (only other nodes can).
	seed     maphash.Seed
	pubLocks [64]sync.Mutex

	announce.Announcer // PublishJoin, PublishLeave

	sub      subscriber
	presence presenceOwner
	trim     chan trimJob  // publications to drop from history, done in the background
	resync   chan struct{} // a reconnect happened: catch up every channel
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
	b := &Broker{
		opts: opts, names: names{prefix: opts.Prefix}, life: lifecycle.New("nats", opts.Timeout),
		seed: maphash.MakeSeed(), trim: make(chan trimJob, 1024), resync: make(chan struct{}, 1),
	}
	b.Announcer = announce.Announcer{Name: "nats", Send: b.sendPresence}
	b.tracker = tracker.New(tracker.Config{Name: "nats broker", Service: "NATS", History: heads{b}, Life: b.life, Logger: opts.Logger})
	b.sub.init()
	b.presence.init()
	copts, err := b.connectOptions(t)
	if err != nil {
		b.life.Close()
		return nil, err
	}
	nc, err := nats.Connect(t.servers, copts...)
	if err != nil {
		b.life.Close()
		return nil, fmt.Errorf("nats: connect to %s: %w: %w", t.redacted, broker.ErrUnavailable, err)
	}
	b.nc = nc
	if b.js, err = jetstream.New(nc); err != nil {
		nc.Close()
		b.life.Close()
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
	if err := b.tracker.Start(h); err != nil {
		return err
	}
	b.handler = h // for control messages
	ctx, cancel := b.life.OpCtx(ctx)
	defer cancel()
	if err := b.ensureStore(ctx); err != nil {
		b.life.StartFailed()
		return b.fail("start", err)
	}
	if err := b.sub.listenControl(ctx, b); err != nil {
		b.life.StartFailed()
		return b.fail("start", err)
	}
	b.life.Every(b.opts.PositionCheck, b.tracker.CheckPositions)
	lifecycle.Serve(b.life, b.sub.msgs, b.onMessage) // the node's one delivery goroutine
	lifecycle.Serve(b.life, b.resync, b.resyncOnce)
	b.life.Every(b.opts.PresenceTTL/3, b.refreshPresence)
	lifecycle.Serve(b.life, b.trim, b.purge)
	return nil
}

// Ping implements broker.Pinger: it fails while the client is not
// connected, or JetStream does not answer within Options.Timeout.
func (b *Broker) Ping(ctx context.Context) error {
	if err := b.ready(); err != nil {
		return err
	}
	ctx, cancel := b.life.OpCtx(ctx)
	defer cancel()
	_, err := b.js.AccountInfo(ctx)
	return b.fail("ping", err)
}

// Close implements broker.Broker: it stops delivery, waits for the handler
// calls in flight and the broker's goroutines, and closes the connection.
func (b *Broker) Close(context.Context) error {
	if !b.life.Close() {
		return nil
	}
	b.nc.Close()
	return nil
}

// ready fails fast, before any request: after Close, and while the
// client is not connected (a request would only wait for its timeout).
func (b *Broker) ready() error {
	if err := b.life.Ready(); err != nil {
		return err
	}
	if !b.nc.IsConnected() {
		return fmt.Errorf("nats: not connected (%s): %w", b.nc.Status(), broker.ErrUnavailable)
	}
	return nil
}

// fail turns a client error into the error a caller sees (see
// lifecycle.Fail): a JetStream API error is the request's unless it means
// JetStream cannot serve now, and an error that already says
// ErrUnavailable or ErrClosed stays as it is. A stream that is gone (the
// server lost its data) makes the broker create it again in the
// background.
func (b *Broker) fail(op string, err error) error {
	if err != nil && !b.life.Closed() && !alreadySaid(err) && storeLost(err) {
		b.kickResync()
		return fmt.Errorf("nats: %s: %w: JetStream lost the broker's streams; recreating them: %w", op, broker.ErrUnavailable, err)
	}
	return b.life.Fail(op, err, requestError)
}

// requestError reports whether err is one to pass on as it is: one that
// already says what it is, or a JetStream API error about the request.
func requestError(err error) bool {
	if alreadySaid(err) {
		return true
	}
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.Code < 500 && apiErr.Code != 408
}

// alreadySaid reports whether err already wraps ErrUnavailable or
// ErrClosed.
func alreadySaid(err error) bool {
	return errors.Is(err, broker.ErrUnavailable) || errors.Is(err, broker.ErrClosed)
}

// storeLost reports whether err says a stream or the bucket is missing.
func storeLost(err error) bool {
	return errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, jetstream.ErrStreamNotFound) ||
		errors.Is(err, jetstream.ErrBucketNotFound) || errors.Is(err, nats.ErrNoResponders)
}

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
