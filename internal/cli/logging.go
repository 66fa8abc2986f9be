package cli

import (
	"io"
	"log/slog"
	"os"
)

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// logFormat resolves the configured format: "" picks text on a terminal and
// JSON otherwise.
func logFormat(configured string, terminal bool) string {
	switch {
	case configured != "":
		return configured
	case terminal:
		return "text"
	default:
		return "json"
	}
}

// parseLevel turns a validated level name into a slog.Level.
func parseLevel(name string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(name)); err != nil {
		return slog.LevelInfo
	}
	return l
}

// newLogger returns a logger writing to w in format ("text" or "json") at
// level and above.
func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
