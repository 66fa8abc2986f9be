package herald_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/internal/wstest"
	ws "github.com/heraldrt/herald/transport/websocket"
)

func TestMain(m *testing.M) {
	ws.SetLibraryLogger(nil)
	goleak.VerifyTestMain(m,
		// nbio's shared default engine and timer goroutines are package
		// state of the library, started by its init.
		goleak.IgnoreTopFunction("github.com/lesismal/nbio/timer.(*Timer).loop"),
		goleak.IgnoreTopFunction("github.com/lesismal/nbio/taskpool.New.func3"),
	)
}

// testServer is a Node mounted at /ws on a real HTTP server.
type testServer struct {
	node *herald.Node
	http *httptest.Server
	url  string // ws://.../ws
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
	hs := httptest.NewServer(mux)
	ts := &testServer{node: node, http: hs, url: wstest.WSURL(hs.URL, "/ws")}
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
