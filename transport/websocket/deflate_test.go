package websocket

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/heraldrt/herald/internal/wsframe"
	"github.com/heraldrt/herald/internal/wstest"
)

// recordingPeer echoes like echoPeer and keeps its Conn for the test.
type recordingPeer struct {
	mu    sync.Mutex
	conns []*Conn
}

func (r *recordingPeer) bind(c *Conn) Peer {
	r.mu.Lock()
	r.conns = append(r.conns, c)
	r.mu.Unlock()
	return &echoPeer{c: c}
}

func (r *recordingPeer) last() *Conn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.conns[len(r.conns)-1]
}

func startDeflateServer(t *testing.T, cfg Config) (string, *recordingPeer) {
	t.Helper()
	SetLibraryLogger(nil)
	rec := &recordingPeer{}
	s, err := NewServer(cfg, func(*http.Request) (*Admission, int, string) {
		return &Admission{Bind: rec.bind}, 0, ""
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(func() { hs.Close(); s.Stop() })
	return "ws" + strings.TrimPrefix(hs.URL, "http") + "/", rec
}

// Off by default: the offer is declined, and a frame claiming compression
// (RSV1) is a protocol error.
func TestCompressionOffByDefault(t *testing.T) {
	url, _ := startDeflateServer(t, Config{})
	_, resp := wstest.DialCompressed(t, url)
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); ext != "" {
		t.Fatalf("server accepted %q with compression off", ext)
	}
	raw := wstest.DialRaw(t, url)
	if err := raw.WriteHeader(0x40|wsframe.OpText, true, 0, []byte{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	if code, err := raw.ReadClose(5 * time.Second); err != nil || code != 1002 {
		t.Fatalf("RSV1 frame: close %d (%v), want 1002", code, err)
	}
}

// With compression on, messages go both ways compressed, and the pending
// count returns to zero once the socket took them: it is kept in
// compressed bytes, not in the sizes the upper layer wrote.
func TestCompressionRoundTripKeepsPendingExact(t *testing.T) {
	url, rec := startDeflateServer(t, Config{Compression: true})
	c, resp := wstest.DialCompressed(t, url)
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.Contains(ext, "permessage-deflate") {
		t.Fatalf("extension not negotiated: %q", ext)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msg := bytes.Repeat([]byte(`{"channel":"news","data":"the same words again and again"}`), 200)
	for i := 0; i < 50; i++ {
		if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
			t.Fatal(err)
		}
		_, got, err := c.Read(ctx)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("echo %d: %d bytes, %v", i, len(got), err)
		}
	}
	// Every echo was read, so everything written reached the socket; the
	// count may lag the last write callback by a moment.
	conn := rec.last()
	deadline := time.Now().Add(5 * time.Second)
	for conn.Pending() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("pending %d bytes after every message was delivered", conn.Pending())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A deflate bomb (16 MiB of zeros in about 16 KiB) is refused with 1009
// once it inflates past MaxMessageSize, and other connections carry on.
func TestDeflateBombCloses1009(t *testing.T) {
	url, _ := startDeflateServer(t, Config{Compression: true, MaxMessageSize: 64 << 10})
	bystander, _ := wstest.DialCompressed(t, url)
	bomber, _ := wstest.DialCompressed(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := bomber.Write(ctx, websocket.MessageText, make([]byte, 16<<20)); err != nil {
		t.Fatal(err)
	}
	_, _, err := bomber.Read(ctx)
	if code := websocket.CloseStatus(err); code != websocket.StatusMessageTooBig {
		t.Fatalf("bomb: %v (code %d), want 1009", err, code)
	}
	if err := bystander.Write(ctx, websocket.MessageText, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	if _, got, err := bystander.Read(ctx); err != nil || string(got) != "still here" {
		t.Fatalf("bystander: %q %v", got, err)
	}
}

func TestCompressionLevelChecked(t *testing.T) {
	_, err := NewServer(Config{Compression: true, CompressionLevel: 12}, nil)
	if err == nil {
		t.Fatal("level 12 accepted")
	}
}
