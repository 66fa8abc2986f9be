package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// --websocket-compression reaches the node: a client offering
// permessage-deflate gets it, and without the flag it does not.
func TestServeWebsocketCompression(t *testing.T) {
	for _, on := range []bool{false, true} {
		args := []string{"--addr", "127.0.0.1:0", "--log-level", "error"}
		if on {
			args = append(args, "--websocket-compression", "--websocket-compression-level", "9")
		}
		r := startServe(t, args...)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, resp, err := websocket.Dial(ctx, "ws://"+r.addr+"/ws", &websocket.DialOptions{
			CompressionMode: websocket.CompressionNoContextTakeover,
		})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		_ = c.CloseNow()
		got := strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate")
		if got != on {
			t.Fatalf("flag %v: negotiated %v", on, got)
		}
	}
}

func TestWebsocketCompressionLevelChecked(t *testing.T) {
	for _, bad := range []string{"0", "-2", "10", "fast"} {
		if _, err := Load([]string{"--websocket-compression-level", bad}, env(nil)); err == nil {
			t.Errorf("level %q accepted", bad)
		}
	}
	if _, err := Load([]string{"--websocket-compression-level", "9"}, env(nil)); err != nil {
		t.Errorf("level 9: %v", err)
	}
}
