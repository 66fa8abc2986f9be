package redis

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Defaults for the zero values of Options.
const (
	DefaultPrefix            = "herald"
	DefaultTimeout           = time.Second
	DefaultPresenceTTL       = 45 * time.Second
	DefaultEmptyStreamTTL    = time.Hour
	DefaultPositionCheck     = 30 * time.Second
	DefaultIdempotencyWindow = 2 * time.Minute
)

// Options configure a Broker. The zero value is useful: every field has a
// default.
type Options struct {
	// Prefix starts every key and pub/sub channel name the broker uses, so
	// that several Herald clusters (or tests) can share one Redis. It must
	// not contain '{' or '}' (they would break Redis Cluster hash tags).
	// Default "herald".
	Prefix string
	// Timeout bounds every command the broker sends for a caller (Publish,
	// History, presence, Ping), unless the caller's context ends sooner.
	// While Redis is away, calls fail after at most Timeout with an error
	// wrapping broker.ErrUnavailable. Default 1 s.
	Timeout time.Duration
	// PresenceTTL is how long a presence entry lives unless the node that
	// added it refreshes it; the node refreshes its entries every third of
	// it, so a crashed node's clients leave presence within PresenceTTL.
	// Default 45 s.
	PresenceTTL time.Duration
	// EmptyStreamTTL is how long the position of a stream that History read
	// before its first publication is kept (its epoch must outlive the
	// subscribers that were told it). Default 1 h.
	EmptyStreamTTL time.Duration
	// PositionCheck is how often the node compares each subscribed
	// channel that has history with its stream, and delivers from history
	// what pub/sub lost (Redis pub/sub is at-most-once, and a lost last
	// publication is followed by no gap that would reveal it). Healthy
	// subscribers are never disconnected by it: a check that cannot reach
	// Redis is skipped, and a publication still in flight when the stream
	// is read is delivered once. Default 30 s.
	PositionCheck time.Duration
	// TLSConfig replaces the TLS settings a rediss:// URL implies (for a
	// private CA or client certificates).
	TLSConfig *tls.Config
	// Logger receives reconnects and delivery gaps. Default: discard.
	Logger *slog.Logger
}

// withDefaults fills the zero fields and checks the others.
func (o Options) withDefaults() (Options, error) {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if strings.ContainsAny(o.Prefix, "{}") {
		return o, fmt.Errorf("redis: Options.Prefix %q contains '{' or '}': choose a prefix without braces", o.Prefix)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.PresenceTTL <= 0 {
		o.PresenceTTL = DefaultPresenceTTL
	}
	if o.PositionCheck <= 0 {
		o.PositionCheck = DefaultPositionCheck
	}
	if o.EmptyStreamTTL <= 0 {
		o.EmptyStreamTTL = DefaultEmptyStreamTTL
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}
