package redis

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/heraldrt/herald/broker/internal/settings"
)

// Defaults for the zero values of Options (the NATS broker's are the same).
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
// Logger mean the same for the NATS broker.
type Options struct {
	// Prefix starts every key and pub/sub channel name, so that several
	// Herald clusters (or tests) can share one Redis. No '{' or '}' (Redis
	// Cluster hash tags). Default "herald".
	Prefix string
	// Timeout bounds each command made for a caller (Publish, History,
	// presence, Ping) unless the caller's context ends sooner: while Redis
	// is away, calls fail within it with broker.ErrUnavailable. Default 1 s.
	Timeout time.Duration
	// PresenceTTL is how long a presence entry outlives the node that
	// added it (which refreshes it every third of it). Default 45 s.
	PresenceTTL time.Duration
	// EmptyStreamTTL keeps the position History gave a stream before its
	// first publication, so that its epoch outlives the subscribers that
	// were told it. Default 1 h.
	EmptyStreamTTL time.Duration
	// PositionCheck is how often each subscribed channel with history is
	// compared with its stream, to deliver what pub/sub lost with no later
	// publication to reveal the gap. A check that cannot reach Redis is
	// skipped: it never disconnects a healthy subscriber. Default 30 s.
	PositionCheck time.Duration
	// TLSConfig replaces the TLS settings a rediss:// URL implies (for a
	// private CA or client certificates).
	TLSConfig *tls.Config
	// Logger receives reconnects and delivery gaps. Default: discard.
	Logger *slog.Logger
}

// withDefaults fills the zero fields and checks the others.
func (o Options) withDefaults() (Options, error) {
	settings.Common{Prefix: &o.Prefix, Timeout: &o.Timeout, PresenceTTL: &o.PresenceTTL,
		EmptyStreamTTL: &o.EmptyStreamTTL, PositionCheck: &o.PositionCheck, Logger: &o.Logger}.Fill()
	if strings.ContainsAny(o.Prefix, "{}") {
		return o, fmt.Errorf("redis: Options.Prefix %q contains '{' or '}': choose a prefix without braces", o.Prefix)
	}
	return o, nil
}
