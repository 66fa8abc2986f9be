package redis

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/redis/rueidis"

	"github.com/heraldrt/herald/broker"
)

// Broker is a Herald broker on Redis: pub/sub between nodes, history in
// Redis Streams, presence in hashes. It implements broker.Broker,
// broker.PresenceStore and broker.Pinger. Create it with New; it is safe for
// concurrent use.
type Broker struct {
	client  rueidis.Client
	opts    Options
	keys    keys
	scripts scripts
	ctx     context.Context // ends at Close
	cancel  context.CancelFunc

	started atomic.Bool
	closed  atomic.Bool
	handler broker.EventHandler
	// gate lets Close wait for handler calls in flight: deliveries hold it
	// for reading and give up once closed is set.
	gate sync.RWMutex

	sub      subscriber
	presence presenceOwner
	wg       sync.WaitGroup // the pub/sub loop, the presence refresher and the position check

	// positionFixes counts position checks that found a channel behind
	// its stream and caught it up.
	positionFixes atomic.Int64
}

var (
	_ broker.Broker        = (*Broker)(nil)
	_ broker.PresenceStore = (*Broker)(nil)
	_ broker.Pinger        = (*Broker)(nil)
)

// New connects to the Redis that url names (see the package documentation
// for the forms) and returns a broker that is not started yet. It fails
// with an error wrapping ErrInvalidURL when the URL is wrong, and with one
// wrapping broker.ErrUnavailable when Redis cannot be reached.
func New(url string, opts Options) (*Broker, error) {
	copt, err := parseURL(url)
	if err != nil {
		return nil, err
	}
	if opts, err = opts.withDefaults(); err != nil {
		return nil, err
	}
	if opts.TLSConfig != nil {
		copt.TLSConfig = opts.TLSConfig
	}
	copt.DisableCache = true
	// A connection that does not answer a ping within this long is
	// replaced; on the pub/sub connection that starts a resubscription.
	copt.ConnWriteTimeout = 3 * opts.Timeout
	copt.Dialer.Timeout = opts.Timeout
	if copt.Sentinel.MasterSet != "" {
		copt.Sentinel.Dialer.Timeout = opts.Timeout
	}
	client, err := rueidis.NewClient(copt)
	if err != nil {
		return nil, fmt.Errorf("redis: connect to %s: %w: %w", broker.RedactURL(url), broker.ErrUnavailable, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Broker{client: client, opts: opts, keys: keys{prefix: opts.Prefix}, scripts: newScripts(), ctx: ctx, cancel: cancel}
	b.sub.init()
	b.presence.init()
	return b, nil
}

// Start implements broker.Broker: it opens the pub/sub connection (failing
// with broker.ErrUnavailable if it cannot) and starts the loop that keeps
// it open and the presence refresher.
func (b *Broker) Start(ctx context.Context, h broker.EventHandler) error {
	if b.closed.Load() {
		return broker.ErrClosed
	}
	if !b.started.CompareAndSwap(false, true) {
		return errors.New("redis: Start called twice")
	}
	b.handler = h
	lost, err := b.connectPubSub(ctx)
	if err != nil {
		b.started.Store(false)
		return err
	}
	b.wg.Add(3)
	go b.checkPositions()
	go b.runPubSub(lost)
	go b.refreshPresence()
	return nil
}

// Ping implements broker.Pinger: it fails while Redis does not answer
// within Options.Timeout.
func (b *Broker) Ping(ctx context.Context) error {
	if b.closed.Load() {
		return broker.ErrClosed
	}
	ctx, cancel := b.opCtx(ctx)
	defer cancel()
	return b.fail("ping", b.client.Do(ctx, b.client.B().Ping().Build()).Error())
}

// Close implements broker.Broker: it stops delivery, waits for the handler
// calls in flight and the broker's goroutines, and closes the connections.
func (b *Broker) Close(context.Context) error {
	if !b.closed.CompareAndSwap(false, true) {
		return nil
	}
	b.cancel()
	b.gate.Lock() // wait for deliveries in flight
	b.gate.Unlock()
	b.wg.Wait()
	b.sub.disconnect()
	b.client.Close()
	return nil
}

// opCtx bounds one operation by Options.Timeout and by Close.
func (b *Broker) opCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, b.opts.Timeout)
	stop := context.AfterFunc(b.ctx, cancel)
	return ctx, func() { stop(); cancel() }
}

// fail turns a rueidis error into the error a caller sees: nil stays nil,
// ErrClosed after Close, a Redis reply error as it is (it says what is
// wrong with the request) unless it means the server cannot serve now, and
// anything else (timeouts, refused or broken connections) wrapped in
// broker.ErrUnavailable.
func (b *Broker) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	if b.closed.Load() {
		return fmt.Errorf("redis: %s: %w", op, broker.ErrClosed)
	}
	if re, ok := rueidis.IsRedisErr(err); ok && !unavailableReply(re.Error()) {
		return fmt.Errorf("redis: %s: %w", op, err)
	}
	return fmt.Errorf("redis: %s: %w: %w", op, broker.ErrUnavailable, err)
}

// unavailableReply reports whether a Redis error reply means the server
// cannot serve right now rather than that the request was wrong.
func unavailableReply(msg string) bool {
	for _, p := range []string{"LOADING", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "READONLY", "BUSY", "NOREPLICAS"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
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

var epochEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newEpoch returns a random 8-character epoch name. The scripts use it only
// when they create a stream's meta, so it is cheap to pass one every call.
func newEpoch() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return epochEncoding.EncodeToString(b[:])
}
