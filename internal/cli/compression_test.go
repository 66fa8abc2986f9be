package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/heraldrt/herald/internal/wstest"
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

// TestWebsocketCompressionLevelChecked: levels outside 1 to 9 are refused.
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

// TestServeDeflateBomb: with --websocket-compression, --max-message-size
// applies after inflating: a small frame that inflates past it closes
// with 1009.
func TestServeDeflateBomb(t *testing.T) {
	r := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--websocket-compression", "--max-message-size=4096")
	c, _ := wstest.DialCompressed(t, r.url())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	bomb := `{"id":1,"op":"connect","data":"` + strings.Repeat("A", 1<<20) + `"}` // a few KiB once deflated
	if err := c.Write(ctx, websocket.MessageText, []byte(bomb)); err != nil {
		t.Fatal(err)
	}
	for {
		if _, _, err := c.Read(ctx); err != nil {
			if code := websocket.CloseStatus(err); code != websocket.StatusMessageTooBig {
				t.Fatalf("read: %v, want close 1009", err)
			}
			return
		}
	}
}
