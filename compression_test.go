package herald_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/internal/wstest"
)

func dialCompressed(t *testing.T, url string) (*websocket.Conn, string) {
	t.Helper()
	c, resp := wstest.DialCompressed(t, url)
	return c, resp.Header.Get("Sec-WebSocket-Extensions")
}

// readUntil reads messages until one contains want.
func readUntil(t *testing.T, c *websocket.Conn, want string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, m, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for %q: %v", want, err)
		}
		if strings.Contains(string(m), want) {
			return string(m)
		}
	}
}

// With Compression on, a client that offers permessage-deflate gets its
// publications compressed and may send compressed commands; one whose
// command inflates past MaxMessageSize (a deflate bomb) is closed with
// 1009 while a subscriber carries on.
func TestCompressionAndDeflateBomb(t *testing.T) {
	ts := startServer(t, herald.Config{Compression: true, MaxMessageSize: 64 << 10})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	sub, ext := dialCompressed(t, ts.url)
	if !strings.Contains(ext, "permessage-deflate") {
		t.Fatalf("compression not negotiated: %q", ext)
	}
	for _, cmd := range []string{`{"id":1,"op":"connect"}`, `{"id":2,"op":"subscribe","channel":"news"}`} {
		if err := sub.Write(ctx, websocket.MessageText, []byte(cmd)); err != nil {
			t.Fatal(err)
		}
	}
	readUntil(t, sub, `"id":2`)
	data := json.RawMessage(`"` + strings.Repeat("compressible ", 500) + `"`)
	if _, err := ts.node.Publish(ctx, "news", data); err != nil {
		t.Fatal(err)
	}
	readUntil(t, sub, "compressible compressible")

	bomber, _ := dialCompressed(t, ts.url)
	if err := bomber.Write(ctx, websocket.MessageText, []byte(`{"id":1,"op":"connect"}`)); err != nil {
		t.Fatal(err)
	}
	readUntil(t, bomber, `"id":1`)
	bomb := `{"id":2,"op":"publish","channel":"news","data":"` + strings.Repeat("A", 16<<20) + `"}`
	if err := bomber.Write(ctx, websocket.MessageText, []byte(bomb)); err != nil {
		t.Fatal(err)
	}
	_, _, err := bomber.Read(ctx)
	if code := websocket.CloseStatus(err); code != websocket.StatusMessageTooBig {
		t.Fatalf("deflate bomb: %v (code %d), want 1009", err, code)
	}

	if _, err := ts.node.Publish(ctx, "news", json.RawMessage(`"after the bomb"`)); err != nil {
		t.Fatal(err)
	}
	readUntil(t, sub, "after the bomb")
}

// Off by default: the offer is declined.
func TestCompressionOffByDefault(t *testing.T) {
	ts := startServer(t, herald.Config{})
	if _, ext := dialCompressed(t, ts.url); ext != "" {
		t.Fatalf("compression negotiated by default: %q", ext)
	}
}
