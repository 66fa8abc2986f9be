package web_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/broker/redis"
	"github.com/heraldrt/herald/internal/browsertest"
	"github.com/heraldrt/herald/js"
	"github.com/heraldrt/herald/protocol"
	"github.com/heraldrt/herald/web"
)

// demoConfig is what `herald --presence --join-leave` gives the demo:
// history (memory broker) with recovery, presence, join and leave.
func demoConfig() herald.Config {
	return herald.Config{
		ShutdownWindow: 50 * time.Millisecond,
		Channels:       herald.ChannelOptions{HistorySize: 100, Presence: true, JoinLeave: true},
	}
}

// restartableServer is a Herald node with the demo, mounted as the herald
// binary mounts it, on a fixed address, that a control endpoint can
// restart: the node shuts down (memory broker: history and epochs are
// lost) and a new one listens on the same address, as a restarted binary
// would.
type restartableServer struct {
	t    *testing.T
	addr string
	// newBroker, when set, gives each start its broker (one that keeps
	// history outside the node survives a restart); nil is the memory
	// broker.
	newBroker func() (broker.Broker, error)
	mu        sync.Mutex
	node      *herald.Node
	srv       *http.Server
	done      chan struct{}
}

func startRestartable(t *testing.T, newBroker func() (broker.Broker, error)) *restartableServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rs := &restartableServer{t: t, addr: ln.Addr().String(), newBroker: newBroker}
	if err := rs.start(ln); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rs.stop)
	return rs
}

func (rs *restartableServer) start(ln net.Listener) error {
	cfg := demoConfig()
	if rs.newBroker != nil {
		b, err := rs.newBroker()
		if err != nil {
			return err
		}
		cfg.Broker = b
	}
	node, err := herald.New(cfg)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", node.Handler())
	mux.Handle("/herald.js", js.Handler())
	mux.Handle("/", web.Handler())
	mux.HandleFunc("POST /_e2e/disconnect", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		if code == 0 {
			code = protocol.CloseForceReconnect
		}
		if err := node.Disconnect(r.Context(), "", r.URL.Query().Get("client"), code, "e2e test"); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
	srv := &http.Server{Handler: mux}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	rs.mu.Lock()
	rs.node, rs.srv, rs.done = node, srv, done
	rs.mu.Unlock()
	return nil
}

// stop shuts the node down (3000 to every client), then the HTTP server.
func (rs *restartableServer) stop() {
	rs.mu.Lock()
	node, srv, done := rs.node, rs.srv, rs.done
	rs.node = nil
	rs.mu.Unlock()
	if node == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := node.Shutdown(ctx); err != nil {
		rs.t.Errorf("shutdown: %v", err)
	}
	_ = srv.Close()
	<-done
}

func (rs *restartableServer) restart() error {
	rs.stop()
	ln, err := net.Listen("tcp", rs.addr)
	if err != nil {
		return err
	}
	return rs.start(ln)
}

// TestDemoInChromium runs web/e2e/demo.e2e.mjs: two Chromium pages use the
// demo at / against a server with history, presence and join/leave. The
// second page to join sees the room's earlier messages, both member lists
// follow joins and leaves, the typing indicator shows, a dropped
// connection says "nothing missed" and a server restart (history lost)
// says the messages could not be recovered and reloads. Screenshots at
// desktop and phone width go to $HERALD_E2E_ARTIFACTS, or a folder in the
// test's temporary directory, whose path the log shows.
func TestDemoInChromium(t *testing.T) {
	runDemo(t, nil)
}

// TestDemoRestartOnRedis runs the same with the Redis broker: history
// lives in Redis, so after the server restarts the pages say "nothing
// missed".
func TestDemoRestartOnRedis(t *testing.T) {
	c, err := net.DialTimeout("tcp", "127.0.0.1:6379", time.Second)
	if err != nil {
		browsertest.NeedService(t, "no Redis on 127.0.0.1:6379 (%v)", err)
	}
	c.Close()
	prefix := fmt.Sprintf("webtest-%d", time.Now().UnixNano())
	runDemo(t, func() (broker.Broker, error) {
		return redis.New("redis://127.0.0.1:6379/0", redis.Options{Prefix: prefix})
	}, "--restart-keeps-history")
}

// runDemo runs demo.e2e.mjs against a restartable server whose brokers
// newBroker makes (nil: the memory broker), with extra script flags.
func runDemo(t *testing.T, newBroker func() (broker.Broker, error), extra ...string) {
	dir := e2eDir(t)
	rs := startRestartable(t, newBroker)

	control := http.NewServeMux()
	control.HandleFunc("POST /restart", func(w http.ResponseWriter, _ *http.Request) {
		if err := rs.restart(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	cln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	csrv := &http.Server{Handler: control}
	cdone := make(chan struct{})
	go func() {
		defer close(cdone)
		_ = csrv.Serve(cln)
	}()
	t.Cleanup(func() {
		_ = csrv.Close()
		<-cdone
	})

	artifacts := os.Getenv("HERALD_E2E_ARTIFACTS")
	if artifacts == "" {
		artifacts = filepath.Join(t.TempDir(), "artifacts")
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	base := "http://" + rs.addr
	if newBroker != nil {
		artifacts = filepath.Join(artifacts, "with-broker")
		if err := os.MkdirAll(artifacts, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	runNode(t, dir, append([]string{"demo.e2e.mjs", base + "/", artifacts,
		"--kick", base + "/_e2e/disconnect", "--restart", "http://" + cln.Addr().String() + "/restart"}, extra...)...)
	t.Logf("screenshots: %s", artifacts)
}
