package nats

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldrt/herald/broker/internal/settings"
)

// Defaults for the zero values of Options (the Redis broker's are the same).
const (
	DefaultPrefix            = settings.Prefix
	DefaultTimeout           = settings.Timeout
	DefaultPresenceTTL       = settings.PresenceTTL
	DefaultEmptyStreamTTL    = settings.EmptyStreamTTL
	DefaultPositionCheck     = settings.PositionCheck
	DefaultIdempotencyWindow = settings.IdempotencyWindow
)

// Options configure a Broker. The zero value is useful: every field has a
// default. Prefix, Timeout, PresenceTTL, EmptyStreamTTL, PositionCheck and
// Logger mean the same for the Redis broker.
type Options struct {
	// Prefix starts every subject, stream and bucket name, so that several
	// Herald clusters (or tests) can share one NATS. Only letters, digits,
	// '-' and '_'. Default "herald".
	Prefix string
	// Name is the connection's name, shown in NATS monitoring. Default
	// "herald".
	Name string
	// Timeout bounds each request made for a caller (Publish, History,
	// presence, Ping) unless the caller's context ends sooner: while NATS
	// is away, calls fail at once (disconnected) or within it (stalled)
	// with broker.ErrUnavailable. The client also pings the server every
	// Timeout and reconnects after about 3×Timeout without an answer.
	// Default 1 s.
	Timeout time.Duration
	// CredsFile is a NATS credentials file (JWT and NKey seed), as the
	// creds= URL parameter.
	CredsFile string
	// NKeySeedFile is a file holding an NKey seed (user authentication by
	// NKey), as the nkey= URL parameter.
	NKeySeedFile string
	// TLSConfig replaces the TLS settings the URL implies (tls:// or the
	// tls_ca, tls_cert and tls_key parameters).
	TLSConfig *tls.Config
	// PresenceTTL is how long a presence entry outlives the node that
	// added it (which refreshes it every third of it): the presence
	// bucket's TTL, set by Start. Default 45 s.
	PresenceTTL time.Duration
	// EmptyStreamTTL keeps the position History gave a channel before its
	// first publication, so that its epoch outlives the subscribers that
	// were told it. Default 1 h.
	EmptyStreamTTL time.Duration
	// IdempotencyWindow is the longest an idempotency key is remembered:
	// the duplicate window of the broker's streams. A Publish may ask for
	// a shorter window, never a longer one. Default 2 min.
	IdempotencyWindow time.Duration
	// MaxHistoryAge, when set, is the history stream's MaxAge: a backstop
	// that removes publications of channels nobody publishes to any more,
	// whatever their HistoryTTL. A channel whose publications all aged out
	// starts again in a new epoch. Default 0: kept until trimmed by size
	// or expired by HistoryTTL.
	MaxHistoryAge time.Duration
	// PositionCheck is how often each subscribed channel is compared with
	// the head of its history, to deliver what core NATS lost with no later
	// publication to reveal the gap (or a publication whose node crashed
	// between storing and sending it). A check that cannot read the head
	// is skipped: it never disconnects a healthy subscriber. Default 30 s.
	PositionCheck time.Duration
	// Replicas is how many copies of the streams and bucket a JetStream
	// cluster keeps. Default 1.
	Replicas int
	// MemoryStorage keeps the streams and bucket in the servers' memory
	// instead of files: faster, lost when a server restarts (the broker
	// then starts every channel in a new epoch).
	MemoryStorage bool
	// Logger receives reconnects and delivery gaps. Default: discard.
	Logger *slog.Logger
}

// withDefaults fills the zero fields and checks the others.
func (o Options) withDefaults() (Options, error) {
	settings.Common{Prefix: &o.Prefix, Timeout: &o.Timeout, PresenceTTL: &o.PresenceTTL,
		EmptyStreamTTL: &o.EmptyStreamTTL, PositionCheck: &o.PositionCheck, Logger: &o.Logger}.Fill()
	if !validPrefix(o.Prefix) {
		return o, fmt.Errorf("nats: Options.Prefix %q: use only letters, digits, '-' and '_'", o.Prefix)
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
	return o, nil
}

func (o Options) storage() jetstream.StorageType {
	if o.MemoryStorage {
		return jetstream.MemoryStorage
	}
	return jetstream.FileStorage
}
