package websocket

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/lesismal/nbio/logging"
)

// SetLibraryLogger routes the logs of the nbio library to l, at l's levels.
// nbio's logger is process-wide, so only a program's main (the herald
// binary, a test's TestMain) should call this; a nil l silences nbio.
func SetLibraryLogger(l *slog.Logger) {
	if l == nil {
		logging.SetLevel(logging.LevelNone)
		return
	}
	logging.SetLogger(nbioLogger{l})
	logging.SetLevel(logging.LevelDebug)
}

type nbioLogger struct{ l *slog.Logger }

func (n nbioLogger) log(level slog.Level, format string, v ...any) {
	if n.l.Enabled(context.Background(), level) {
		n.l.Log(context.Background(), level, fmt.Sprintf(format, v...), "component", "nbio")
	}
}

func (n nbioLogger) Debug(format string, v ...any) { n.log(slog.LevelDebug, format, v...) }
func (n nbioLogger) Info(format string, v ...any)  { n.log(slog.LevelDebug, format, v...) }
func (n nbioLogger) Warn(format string, v ...any)  { n.log(slog.LevelWarn, format, v...) }
func (n nbioLogger) Error(format string, v ...any) { n.log(slog.LevelError, format, v...) }
