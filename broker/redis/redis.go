package redis

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strings"

	"github.com/redis/rueidis"

	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/broker/internal/announce"
	"github.com/heraldrt/herald/broker/internal/lifecycle"
	"github.com/heraldrt/herald/broker/internal/tracker"
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
	life    *lifecycle.Lifecycle
	handler broker.EventHandler
	tracker *tracker.Tracker // what each subscribed channel was delivered

	announce.Announcer // PublishJoin, PublishLeave

	sub      subscriber
	presence presenceOwner
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
	b := &Broker{client: client, opts: opts, keys: keys{prefix: opts.Prefix}, scripts: newScripts(),
		life: lifecycle.New("redis", opts.Timeout)}
	b.Announcer = announce.Announcer{Name: "redis", Send: b.sendPresence}
	b.tracker = tracker.New(tracker.Config{Name: "redis broker", Service: "Redis", History: streams{b}, Life: b.life, Logger: opts.Logger})
	b.presence.init()
	return b, nil
}

// Start implements broker.Broker: it opens the pub/sub connection (failing
// with broker.ErrUnavailable if it cannot) and starts the loop that keeps
// it open and the presence refresher.
func (b *Broker) Start(ctx context.Context, h broker.EventHandler) error {
	if err := b.tracker.Start(h); err != nil {
		return err
	}
	b.handler = h // for control messages
	lost, err := b.connectPubSub(ctx)
	if err != nil {
		b.life.StartFailed()
		return err
	}
	b.life.Every(b.opts.PositionCheck, b.tracker.CheckPositions)
	b.life.Go(func() { b.runPubSub(lost) })
	b.life.Every(b.opts.PresenceTTL/3, b.refreshPresence)
	return nil
}

// Ping implements broker.Pinger: it fails while Redis does not answer
// within Options.Timeout.
func (b *Broker) Ping(ctx context.Context) error {
	if err := b.life.Ready(); err != nil {
		return err
	}
	ctx, cancel := b.life.OpCtx(ctx)
	defer cancel()
	return b.fail("ping", b.client.Do(ctx, b.client.B().Ping().Build()).Error())
}

// Close implements broker.Broker: it stops delivery, waits for the handler
// calls in flight and the broker's goroutines, and closes the connections.
func (b *Broker) Close(context.Context) error {
	if !b.life.Close() {
		return nil
	}
	b.sub.disconnect()
	b.client.Close()
	return nil
}

// fail turns a rueidis error into the error a caller sees (see
// lifecycle.Fail): a Redis reply error is the request's unless it means
// the server cannot serve now.
func (b *Broker) fail(op string, err error) error {
	return b.life.Fail(op, err, requestError)
}

// requestError reports whether err is a Redis reply that says what is
// wrong with the request.
func requestError(err error) bool {
	re, ok := rueidis.IsRedisErr(err)
	return ok && !unavailableReply(re.Error())
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

var epochEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newEpoch returns a random 8-character epoch name. The scripts use it only
// when they create a stream's meta, so it is cheap to pass one every call.
func newEpoch() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return epochEncoding.EncodeToString(b[:])
}
