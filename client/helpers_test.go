package client

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/internal/wstest"
)

// testServer is a Herald node mounted at /ws on a real HTTP server.
type testServer struct {
	node *herald.Node
	http *httptest.Server
	url  string // ws://.../ws
}

// startServer starts a node on a new port, or on addr when it is given
// (to play a restarted server).
func startServer(t testing.TB, cfg herald.Config, addr ...string) *testServer {
	t.Helper()
	if cfg.ShutdownWindow == 0 {
		cfg.ShutdownWindow = 20 * time.Millisecond
	}
	node, err := herald.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", node.Handler())
	hs := httptest.NewUnstartedServer(mux)
	if len(addr) > 0 {
		ln, err := net.Listen("tcp", addr[0])
		if err != nil {
			t.Fatalf("listen again on %s: %v", addr[0], err)
		}
		hs.Listener.Close()
		hs.Listener = ln
	}
	hs.Start()
	ts := &testServer{node: node, http: hs, url: wstest.WSURL(hs.URL, "/ws")}
	t.Cleanup(ts.stop)
	return ts
}

// stop shuts the node down gracefully, then the HTTP server. It may be
// called more than once.
func (ts *testServer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = ts.node.Shutdown(ctx)
	ts.http.Close()
}

// fastOptions are client options for tests: short backoffs and timeouts.
func fastOptions(o Options) Options {
	if o.MinReconnectDelay == 0 {
		o.MinReconnectDelay = 5 * time.Millisecond
	}
	if o.MaxReconnectDelay == 0 {
		o.MaxReconnectDelay = 50 * time.Millisecond
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = 2 * time.Second
	}
	return o
}

// newClient creates a client with fast options and closes it at the end of
// the test.
func newClient(t testing.TB, url string, o Options) *Client {
	t.Helper()
	c := New(url, fastOptions(o))
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// connectClient is newClient, connected: the test fails if it cannot
// connect.
func connectClient(t testing.TB, url string, o Options) *Client {
	t.Helper()
	c := newClient(t, url, o)
	if err := c.Connect(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	return c
}

// subscribe subscribes c to channel and returns the recorder of the
// subscription's events; the test fails if the server refuses.
func subscribe(t testing.TB, c *Client, channel string) *subRecorder {
	t.Helper()
	s := newSubRecorder()
	if _, err := c.Subscribe(testCtx(t), channel, s.handlers()); err != nil {
		t.Fatal(err)
	}
	return s
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// recorder collects a client's lifecycle events.
type recorder struct {
	mu           sync.Mutex
	connecting   []ConnectingEvent
	connected    []ConnectedEvent
	disconnected []DisconnectedEvent
	errors       []error
	changed      chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{}, 1)} }

func (r *recorder) options(o Options) Options {
	o.OnConnecting = func(e ConnectingEvent) { r.add(func() { r.connecting = append(r.connecting, e) }) }
	o.OnConnected = func(e ConnectedEvent) { r.add(func() { r.connected = append(r.connected, e) }) }
	o.OnDisconnected = func(e DisconnectedEvent) { r.add(func() { r.disconnected = append(r.disconnected, e) }) }
	o.OnError = func(err error) { r.add(func() { r.errors = append(r.errors, err) }) }
	return o
}

func (r *recorder) add(fn func()) {
	r.mu.Lock()
	fn()
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// waitFor waits until cond (called under the recorder's lock) holds.
func (r *recorder) waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(3 * time.Second)
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.changed:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("timed out waiting for %s; connecting=%v connected=%d disconnected=%v errors=%v",
				what, r.connecting, len(r.connected), r.disconnected, r.errors)
		}
	}
}

// read returns what fn reads from r, under r's lock.
func read[T any](r *recorder, fn func() T) T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fn()
}

// subRecorder collects one subscription's events.
type subRecorder struct {
	pubs       chan Publication
	subscribed chan SubscribedEvent
	unsub      chan UnsubscribedEvent
}

func newSubRecorder() *subRecorder {
	return &subRecorder{
		pubs:       make(chan Publication, 256),
		subscribed: make(chan SubscribedEvent, 16),
		unsub:      make(chan UnsubscribedEvent, 16),
	}
}

func (s *subRecorder) handlers() SubscriptionHandlers {
	return SubscriptionHandlers{
		OnPublication:  func(p Publication) { s.pubs <- p },
		OnSubscribed:   func(e SubscribedEvent) { s.subscribed <- e },
		OnUnsubscribed: func(e UnsubscribedEvent) { s.unsub <- e },
	}
}

func (s *subRecorder) nextPub(t testing.TB) Publication {
	t.Helper()
	return receive(t, s.pubs, "publication")
}

func (s *subRecorder) nextSubscribed(t testing.TB) SubscribedEvent {
	t.Helper()
	return receive(t, s.subscribed, "subscribed event")
}

func receive[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(3 * time.Second):
		t.Fatalf("timed out waiting for a %s", what)
		panic("unreachable")
	}
}

// noneWithin fails when ch yields a value within d.
func noneWithin[T any](t testing.TB, ch <-chan T, d time.Duration, what string) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("unexpected %s: %+v", what, v)
	case <-time.After(d):
	}
}
