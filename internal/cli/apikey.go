package cli

import (
	"context"
	"log/slog"
	"strings"
)

// The warnings about an HTTP API without a key. The api package's names
// api.Config.Key, which means nothing to someone running the binary; the
// binary drops it and logs its own, which names its settings.
const (
	libraryNoKeyWarning = "the HTTP API has no key"
	noKeyWarning        = "the HTTP API has no key and refuses every request; set --api-key (HERALD_API_KEY, or api_key in the config file)"
)

// apiLogger returns the logger to give the api package: log itself when c
// has an API key; otherwise, having logged the binary's warning, log
// without the library's.
func apiLogger(log *slog.Logger, c *Config) *slog.Logger {
	if c.APIKey != "" {
		return log
	}
	log.Warn(noKeyWarning)
	return slog.New(dropWarning{log.Handler(), libraryNoKeyWarning})
}

// dropWarning is a slog.Handler that drops the warnings whose message
// starts with prefix and passes everything else to next.
type dropWarning struct {
	next   slog.Handler
	prefix string
}

// Enabled reports whether next handles level.
func (d dropWarning) Enabled(ctx context.Context, level slog.Level) bool {
	return d.next.Enabled(ctx, level)
}

// Handle passes r to next unless it is a dropped warning.
func (d dropWarning) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelWarn && strings.HasPrefix(r.Message, d.prefix) {
		return nil
	}
	return d.next.Handle(ctx, r)
}

// WithAttrs returns the handler with attrs added to next.
func (d dropWarning) WithAttrs(attrs []slog.Attr) slog.Handler {
	return dropWarning{d.next.WithAttrs(attrs), d.prefix}
}

// WithGroup returns the handler with the group opened on next.
func (d dropWarning) WithGroup(name string) slog.Handler {
	return dropWarning{d.next.WithGroup(name), d.prefix}
}
