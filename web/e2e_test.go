package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/internal/browsertest"
	"github.com/heraldrt/herald/js"
	"github.com/heraldrt/herald/protocol"
	"github.com/heraldrt/herald/web"
)

// e2eDir returns the absolute path of web/e2e after checking that node,
// Chromium and the e2e packages are installed.
func e2eDir(t *testing.T) string {
	t.Helper()
	return browsertest.Require(t, "e2e") // tests run in the package's directory, web/
}

// startServer runs a real Herald node on an httptest server, mounted as the
// herald binary mounts it ("/ws", "/herald.js", "/"), plus whatever setup
// adds. It returns the server's http:// URL.
func startServer(t *testing.T, cfg herald.Config, setup func(node *herald.Node, mux *http.ServeMux)) string {
	t.Helper()
	return startServerWrapped(t, cfg, nil, setup)
}

// startServerWrapped is startServer with the WebSocket endpoint and the
// fallback endpoints passed through wrap, when given.
func startServerWrapped(t *testing.T, cfg herald.Config, wrap func(http.Handler) http.Handler, setup func(node *herald.Node, mux *http.ServeMux)) string {
	t.Helper()
	node, err := herald.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	ws := node.Handler()
	if wrap != nil {
		ws = wrap(ws)
	}
	mux.Handle("/ws", ws)
	fallback := node.FallbackHandler()
	if wrap != nil {
		fallback = wrap(fallback)
	}
	for _, path := range []string{"/stream", "/sse", "/cmd"} {
		mux.Handle(path, fallback)
	}
	mux.Handle("/herald.js", js.Handler())
	mux.Handle("/", web.Handler())
	// A test-only endpoint that disconnects one client, with a reconnect
	// code unless ?code= says otherwise.
	mux.HandleFunc("POST /_e2e/disconnect", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		if code == 0 {
			code = protocol.CloseForceReconnect
		}
		if err := node.Disconnect(r.Context(), "", r.URL.Query().Get("client"), code, "e2e test"); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
	if setup != nil {
		setup(node, mux)
	}
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := node.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return hs.URL
}

// runNode runs a script of web/e2e with node and fails the test if it fails.
func runNode(t *testing.T, dir string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CHROMIUM="+browsertest.ChromiumPath)
	out, err := cmd.CombinedOutput()
	t.Logf("node %s:\n%s", strings.Join(args, " "), out)
	if err != nil {
		t.Fatalf("node %s failed: %v", args[0], err)
	}
}

// TestChatInChromium runs web/e2e/chat.e2e.mjs: two headless Chromium tabs
// join one room of the demo, chat, and survive a forced reconnect. The
// screenshot it takes goes to $HERALD_E2E_SCREENSHOT, or herald-demo.png in
// the temporary directory.
func TestChatInChromium(t *testing.T) {
	dir := e2eDir(t)
	url := startServer(t, herald.Config{ShutdownWindow: 50 * time.Millisecond}, nil)
	shot := os.Getenv("HERALD_E2E_SCREENSHOT")
	if shot == "" {
		shot = filepath.Join(os.TempDir(), "herald-demo.png")
	}
	runNode(t, dir, "chat.e2e.mjs", url+"/", shot, "--kick", url+"/_e2e/disconnect")
	t.Logf("screenshot: %s", shot)
}

// TestChatInChromiumWithoutWebSocket runs the chat in tabs whose
// WebSocket constructor is removed: the SDK falls back to HTTP-streaming,
// chats, and reconnects after a forced disconnect, without one upgrade.
func TestChatInChromiumWithoutWebSocket(t *testing.T) {
	dir := e2eDir(t)
	var upgrades, streams, posts atomic.Int32
	count := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.URL.Path == "/ws":
				upgrades.Add(1)
			case r.Method == http.MethodGet:
				streams.Add(1)
			case r.Method == http.MethodPost:
				posts.Add(1)
			}
			h.ServeHTTP(w, r)
		})
	}
	url := startServerWrapped(t, herald.Config{ShutdownWindow: 50 * time.Millisecond}, count, nil)
	runNode(t, dir, "chat.e2e.mjs", url+"/", filepath.Join(t.TempDir(), "fallback.png"), "--kick", url+"/_e2e/disconnect", "--no-websocket")
	if upgrades.Load() != 0 || streams.Load() < 3 || posts.Load() == 0 {
		t.Fatalf("%d WebSocket requests, %d streams, %d POSTs: want none, at least 3 (two tabs and a reconnect) and some",
			upgrades.Load(), streams.Load(), posts.Load())
	}
}

// TestChatInChromiumOverSSE runs the same chat forced onto Server-Sent
// Events (the demo's ?transport=sse), WebSocket removed: every stream the
// tabs open is an EventSource on /sse.
func TestChatInChromiumOverSSE(t *testing.T) {
	dir := e2eDir(t)
	var sse, other atomic.Int32
	count := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.Method == http.MethodGet && r.URL.Path == "/sse":
				sse.Add(1)
			case r.URL.Path == "/ws" || (r.Method == http.MethodGet && r.URL.Path == "/stream"):
				other.Add(1)
			}
			h.ServeHTTP(w, r)
		})
	}
	url := startServerWrapped(t, herald.Config{ShutdownWindow: 50 * time.Millisecond}, count, nil)
	runNode(t, dir, "chat.e2e.mjs", url+"/", filepath.Join(t.TempDir(), "sse.png"), "--kick", url+"/_e2e/disconnect", "--no-websocket", "--transport", "sse")
	if sse.Load() < 3 || other.Load() != 0 {
		t.Fatalf("%d SSE streams and %d WebSocket or HTTP-stream requests: want at least 3 (two tabs and a reconnect) and none", sse.Load(), other.Load())
	}
}

// TestChatInChromiumCompressed runs the same chat with permessage-deflate
// on: Chromium offers it on every connection, so every message both ways is
// compressed (by Chromium, and by Herald's compressor on the way out).
func TestChatInChromiumCompressed(t *testing.T) {
	dir := e2eDir(t)
	var offered atomic.Int32
	countOffers := func(ws http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate") {
				offered.Add(1)
			}
			ws.ServeHTTP(w, r)
		})
	}
	url := startServerWrapped(t, herald.Config{ShutdownWindow: 50 * time.Millisecond, Compression: true}, countOffers, nil)
	runNode(t, dir, "chat.e2e.mjs", url+"/", filepath.Join(t.TempDir(), "compressed.png"), "--kick", url+"/_e2e/disconnect")
	if offered.Load() == 0 {
		t.Fatal("Chromium never offered permessage-deflate: the test proved nothing")
	}
}
