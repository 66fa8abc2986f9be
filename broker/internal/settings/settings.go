// Package settings holds the settings every distributed Herald broker
// (Redis, NATS) has, and their defaults, in one place. Each broker keeps
// the fields in its own Options, so that callers write
// redis.Options{Prefix: ...} and nats.Options{Prefix: ...} alike; its
// withDefaults hands them to Fill.
package settings

import (
	"log/slog"
	"time"
)

// The defaults of the common settings, which each broker re-exports.
const (
	Prefix            = "herald"
	Timeout           = time.Second
	PresenceTTL       = 45 * time.Second
	EmptyStreamTTL    = time.Hour
	PositionCheck     = 30 * time.Second
	IdempotencyWindow = 2 * time.Minute
)

// Common points at a broker's Options fields for the common settings.
type Common struct {
	Prefix         *string
	Timeout        *time.Duration
	PresenceTTL    *time.Duration
	EmptyStreamTTL *time.Duration
	PositionCheck  *time.Duration
	Logger         **slog.Logger
}

// Fill sets every zero (or negative) setting to its default; a nil Logger
// discards.
func (c Common) Fill() {
	if *c.Prefix == "" {
		*c.Prefix = Prefix
	}
	orDefault(c.Timeout, Timeout)
	orDefault(c.PresenceTTL, PresenceTTL)
	orDefault(c.EmptyStreamTTL, EmptyStreamTTL)
	orDefault(c.PositionCheck, PositionCheck)
	if *c.Logger == nil {
		*c.Logger = slog.New(slog.DiscardHandler)
	}
}

// orDefault sets *d to def unless it is positive.
func orDefault(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}
