package herald_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/internal/syncbuf"
)

// At debug level, connects and disconnects are logged with the node's and
// the connection's attributes; at info level they are not logged at all.
func TestConnectionLifecycleDebugLogs(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo} {
		logs := &syncbuf.Buffer{}
		ts := startServer(t, herald.Config{
			Name:   "n1",
			Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: level})),
		})
		c := ts.dial(t)
		_ = c.Conn.Close(websocket.StatusNormalClosure, "")
		deadline := time.Now().Add(5 * time.Second)
		want := []string{`msg="client connected"`, `msg="client disconnected"`, "node=n1", "client="}
		for level == slog.LevelDebug && !containsAll(logs.String(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("debug logs lack %q:\n%s", want, logs.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
		if level == slog.LevelInfo {
			time.Sleep(100 * time.Millisecond)
			if s := logs.String(); strings.Contains(s, "client connected") || strings.Contains(s, "client disconnected") {
				t.Fatalf("info level logged connection events:\n%s", s)
			}
		}
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
