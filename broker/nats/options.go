package nats

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Defaults for the zero values of Options.
const (
	DefaultPrefix            = "herald"
	DefaultTimeout           = time.Second
	DefaultPresenceTTL       = 45 * time.Second
	DefaultEmptyStreamTTL    = time.Hour
	DefaultIdempotencyWindow = 2 * time.Minute
)

// Options configure a Broker. The zero value is useful: every field has a
// default.
type Options struct {
	// Prefix starts every subject, stream and bucket name the broker uses,
	// so that several Herald clusters (or tests) can share one NATS. Only
	// letters, digits, '-' and '_'. Default "herald".
	Prefix string
	// Timeout bounds every request the broker makes for a caller (Publish,
	// History, presence, Ping), unless the caller's context ends sooner.
	// While NATS is away, calls fail at once (disconnected) or after at
	// most Timeout (stalled) with an error wrapping broker.ErrUnavailable.
	// It also sets how fast a stalled server is noticed: the client pings
	// it every Timeout and reconnects after about 3×Timeout without an
	// answer. Default 1 s.
	Timeout time.Duration
	// PresenceTTL is how long a presence entry lives unless the node that
	// added it refreshes it; the node refreshes its entries every third of
	// it, so a crashed node's clients leave presence within PresenceTTL.
	// It is the presence bucket's TTL, set when the bucket is created or
	// updated by Start. Default 45 s.
	PresenceTTL time.Duration
	// EmptyStreamTTL is how long the position of a channel that History
	// read before its first publication is kept (its epoch must outlive
	// the subscribers that were told it). Default 1 h.
	EmptyStreamTTL time.Duration
	// IdempotencyWindow is the longest an idempotency key is remembered:
	// the duplicate window of the broker's streams. A Publish may ask for
	// a shorter window, never a longer one. Default 2 min.
	IdempotencyWindow time.Duration
	// PositionCheck is how often the node compares each subscribed
	// channel with the head of its history and delivers, from history,
	// what the live subject lost (core NATS is at-most-once, and a lost
	// last publication, or one whose publishing node crashed between
	// storing and sending it, is followed by no gap that would reveal it).
	// A check that cannot read the head is skipped, so healthy subscribers
	// are never disconnected by it. Default 30 s.
	PositionCheck time.Duration
	// MaxHistoryAge, when set, is the history stream's MaxAge: a backstop
	// that removes publications of channels nobody publishes to any more,
	// whatever their HistoryTTL. A channel whose publications all aged out
	// starts again in a new epoch. Default 0: kept until trimmed by size
	// or expired by HistoryTTL.
	MaxHistoryAge time.Duration
	// Replicas is how many copies of the streams and bucket a JetStream
	// cluster keeps. Default 1.
	Replicas int
	// MemoryStorage keeps the streams and bucket in the servers' memory
	// instead of files: faster, lost when a server restarts (the broker
	// then starts every channel in a new epoch).
	MemoryStorage bool
	// CredsFile is a NATS credentials file (JWT and NKey seed), as the
	// creds= URL parameter.
	CredsFile string
	// NKeySeedFile is a file holding an NKey seed (user authentication by
	// NKey), as the nkey= URL parameter.
	NKeySeedFile string
	// TLSConfig replaces the TLS settings the URL implies (tls:// or the
	// tls_ca, tls_cert and tls_key parameters).
	TLSConfig *tls.Config
	// Name is the connection's name, shown in NATS monitoring. Default
	// "herald".
	Name string
	// Logger receives reconnects and delivery gaps. Default: discard.
	Logger *slog.Logger
}

// withDefaults fills the zero fields and checks the others.
func (o Options) withDefaults() (Options, error) {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if !validPrefix(o.Prefix) {
		return o, fmt.Errorf("nats: Options.Prefix %q: use only letters, digits, '-' and '_'", o.Prefix)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.PositionCheck <= 0 {
		o.PositionCheck = 30 * time.Second
	}
	if o.PresenceTTL <= 0 {
		o.PresenceTTL = DefaultPresenceTTL
	}
	if o.EmptyStreamTTL <= 0 {
		o.EmptyStreamTTL = DefaultEmptyStreamTTL
	}
	if o.IdempotencyWindow <= 0 {
		o.IdempotencyWindow = DefaultIdempotencyWindow
	}
	if o.MaxHistoryAge < 0 {
		o.MaxHistoryAge = 0
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.Name == "" {
		o.Name = "herald"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

func (o Options) storage() jetstream.StorageType {
	if o.MemoryStorage {
		return jetstream.MemoryStorage
	}
	return jetstream.FileStorage
}
