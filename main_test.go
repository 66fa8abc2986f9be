package herald_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/internal/leaktest"
	"github.com/heraldrt/herald/internal/wstest"
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

// testServer is a Node mounted at /ws on a real HTTP server.
type testServer struct {
	node *herald.Node
	http *httptest.Server
	url  string // ws://.../ws
	base string // http://..., where /stream, /sse and /cmd are
}

func startServer(t testing.TB, cfg herald.Config) *testServer {
	t.Helper()
	if cfg.ShutdownWindow == 0 {
		cfg.ShutdownWindow = 50 * time.Millisecond
	}
	node, err := herald.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", node.Handler())
	for _, path := range []string{"/stream", "/sse", "/cmd"} {
		mux.Handle(path, node.FallbackHandler())
	}
	hs := httptest.NewServer(mux)
	ts := &testServer{node: node, http: hs, url: wstest.WSURL(hs.URL, "/ws"), base: hs.URL}
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = node.Shutdown(ctx)
	})
	return ts
}

// dial connects a raw client and sends connect.
func (ts *testServer) dial(t testing.TB) *wstest.Client {
	t.Helper()
	c := wstest.Dial(t, ts.url)
	c.Connect()
	return c
}

type wstestClient = wstest.Client

func itoa(i int) string { return strconv.Itoa(i) }
