package client

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/protocol"
)

// userServer starts a node whose connections all belong to user "u1" and
// counts the connects.
func userServer(t *testing.T, cfg herald.Config) (*testServer, *connectCounter) {
	ts := startServer(t, cfg)
	cc := &connectCounter{}
	ts.node.OnConnect(func(context.Context, *herald.ConnectEvent) (herald.ConnectReply, error) {
		cc.add()
		return herald.ConnectReply{User: "u1"}, nil
	})
	return ts, cc
}

type connectCounter struct {
	mu sync.Mutex
	n  int
}

func (c *connectCounter) add() { c.mu.Lock(); c.n++; c.mu.Unlock() }
func (c *connectCounter) get() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func TestReconnectAndResubscribe(t *testing.T) {
	ts, _ := userServer(t, herald.Config{Channels: herald.ChannelOptions{HistorySize: 16}})
	ctx := testCtx(t)
	rec := newRecorder()
	c := connectClient(t, ts.url, rec.options(Options{}))
	s := subscribe(t, c, "news")
	first := s.nextSubscribed(t)
	if _, err := ts.node.Publish(ctx, "news", json.RawMessage(`"before"`)); err != nil {
		t.Fatal(err)
	}
	if p := s.nextPub(t); string(p.Data) != `"before"` {
		t.Fatalf("got %s", p.Data)
	}

	if err := ts.node.Disconnect(ctx, "u1", "", protocol.CloseForceReconnect, ""); err != nil {
		t.Fatal(err)
	}
	again := s.nextSubscribed(t)
	// The client asks to recover (the channel has history); whether the
	// server can is the server's business, reported in Recovered.
	if !again.Resubscribed || !again.Recovering || again.Epoch != first.Epoch {
		t.Fatalf("resubscribed event = %+v (first %+v)", again, first)
	}
	rec.waitFor(t, "a reconnect", func() bool {
		return len(rec.connected) == 2 && len(rec.connecting) == 2 && rec.connecting[1].Code == protocol.CloseForceReconnect
	})
	if _, err := ts.node.Publish(ctx, "news", json.RawMessage(`"after"`)); err != nil {
		t.Fatal(err)
	}
	if p := s.nextPub(t); string(p.Data) != `"after"` {
		t.Fatalf("got %s after the reconnect", p.Data)
	}
	if _, err := c.Publish(ctx, "news", "from client"); err != nil {
		t.Fatal(err)
	}
	if p := s.nextPub(t); string(p.Data) != `"from client"` {
		t.Fatalf("got %s", p.Data)
	}
	if st := c.State(); st != StateConnected {
		t.Fatalf("state = %v", st)
	}
}

func TestReconnectToRestartedServer(t *testing.T) {
	ts := startServer(t, herald.Config{})
	addr := ts.http.Listener.Addr().String()
	ctx := testCtx(t)
	rec := newRecorder()
	c := connectClient(t, ts.url, rec.options(Options{}))
	s := subscribe(t, c, "room")
	s.nextSubscribed(t)

	ts.stop() // graceful: every client gets disconnect 3000
	rec.waitFor(t, "the shutdown disconnect", func() bool {
		return len(rec.connecting) == 2 && rec.connecting[1].Code == protocol.CloseShutdown
	})
	ts2 := startServer(t, herald.Config{}, addr)
	if ev := s.nextSubscribed(t); !ev.Resubscribed {
		t.Fatalf("resubscribed event = %+v", ev)
	}
	if _, err := ts2.node.Publish(ctx, "room", json.RawMessage(`"new server"`)); err != nil {
		t.Fatal(err)
	}
	if p := s.nextPub(t); string(p.Data) != `"new server"` {
		t.Fatalf("got %s", p.Data)
	}
	if n := ts2.node.Connections(); n != 1 {
		t.Fatalf("new server has %d connections", n)
	}
}

func TestNoReconnectAfterTerminalCode(t *testing.T) {
	ts, connects := userServer(t, herald.Config{})
	ctx := testCtx(t)
	rec := newRecorder()
	c := connectClient(t, ts.url, rec.options(Options{}))
	s := subscribe(t, c, "news")
	if err := ts.node.Disconnect(ctx, "u1", "", protocol.CloseForbidden, "banned"); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "OnDisconnected", func() bool { return len(rec.disconnected) == 1 })
	if ev := read(rec, func() DisconnectedEvent { return rec.disconnected[0] }); ev.Code != protocol.CloseForbidden || ev.Reason != "banned" {
		t.Fatalf("disconnected event = %+v", ev)
	}
	if st := c.State(); st != StateDisconnected {
		t.Fatalf("state = %v", st)
	}
	_, err := c.Publish(ctx, "news", 1)
	var de *DisconnectError
	if !errors.Is(err, ErrDisconnected) || !errors.As(err, &de) || de.Code != protocol.CloseForbidden {
		t.Fatalf("publish after a terminal close: %v", err)
	}
	// Backoffs are a few milliseconds: a reconnect would have happened.
	time.Sleep(200 * time.Millisecond)
	if n := connects.get(); n != 1 {
		t.Fatalf("the client connected %d times after a terminal close", n)
	}

	// Connect starts it again, and the subscription is renewed.
	if err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	s.nextSubscribed(t)
	if ev := s.nextSubscribed(t); !ev.Resubscribed {
		t.Fatalf("subscribed event after Connect = %+v", ev)
	}
}

func TestConnectRefused(t *testing.T) {
	ts := startServer(t, herald.Config{})
	ts.node.OnConnect(func(_ context.Context, e *herald.ConnectEvent) (herald.ConnectReply, error) {
		if e.Token != "good" {
			return herald.ConnectReply{}, herald.ErrUnauthorized
		}
		return herald.ConnectReply{User: "u"}, nil
	})
	rec := newRecorder()
	c := newClient(t, ts.url, rec.options(Options{Token: "bad"}))
	err := c.Connect(testCtx(t))
	var de *DisconnectError
	if !errors.As(err, &de) || de.Code != protocol.CloseInvalidToken || !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("connect with a bad token: %v", err)
	}
	rec.waitFor(t, "OnDisconnected", func() bool { return len(rec.disconnected) == 1 })
	if ev := read(rec, func() DisconnectedEvent { return rec.disconnected[0] }); ev.Code != protocol.CloseInvalidToken || Code(ev.Err) != protocol.CodeUnauthorized {
		t.Fatalf("disconnected event = %+v", ev)
	}

	// TokenFunc is asked on every attempt.
	var mu sync.Mutex
	calls := 0
	c2 := newClient(t, ts.url, Options{TokenFunc: func(context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			return "", errors.New("token service unavailable")
		}
		return "good", nil
	}})
	if err := c2.Connect(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls != 2 {
		t.Fatalf("TokenFunc called %d times", calls)
	}
}

func TestSilentServerIsDropped(t *testing.T) {
	// The server pings once an hour; the client waits 300 ms for anything.
	ts := startServer(t, herald.Config{PingInterval: time.Hour})
	rec := newRecorder()
	connectClient(t, ts.url, rec.options(Options{ReadTimeout: 300 * time.Millisecond}))
	rec.waitFor(t, "a reconnect after silence", func() bool {
		return len(rec.connected) >= 2 && len(rec.connecting) >= 2
	})
	if ev := read(rec, func() ConnectingEvent { return rec.connecting[1] }); ev.Code != 1006 || !strings.Contains(ev.Reason, "no message from the server in 300ms") {
		t.Fatalf("connecting event = %+v", ev)
	}
}

func TestConnectTimesOutAndCloseStops(t *testing.T) {
	// A port nobody listens on: every attempt fails.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "ws://" + ln.Addr().String() + "/ws"
	ln.Close()
	rec := newRecorder()
	c := newClient(t, url, rec.options(Options{}))
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	err = c.Connect(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("connect to nothing: %v", err)
	}
	if st := c.State(); st != StateConnecting {
		t.Fatalf("state = %v", st)
	}
	// Commands wait for the connection, bounded by their context.
	short, cancel2 := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel2()
	if _, err := c.RPC(short, "x", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("rpc while connecting: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if st := c.State(); st != StateClosed {
		t.Fatalf("state after Close = %v", st)
	}
	if _, err := c.Publish(context.Background(), "x", 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("publish after Close: %v", err)
	}
	if err := c.Connect(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("connect after Close: %v", err)
	}
	rec.waitFor(t, "OnDisconnected", func() bool { return len(rec.disconnected) == 1 && len(rec.errors) > 0 })
}

func TestRecoveryAcrossReconnect(t *testing.T) {
	ts, _ := userServer(t, herald.Config{Channels: herald.ChannelOptions{HistorySize: 16}})
	ctx := testCtx(t)
	// The second token request holds the reconnect back until the test has
	// published what the client is to miss.
	gate, asked := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	calls := 0
	c := newClient(t, ts.url, Options{TokenFunc: func(ctx context.Context) (string, error) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 2 {
			close(asked)
			select {
			case <-gate:
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
		return "", nil
	}})
	if err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	s := subscribe(t, c, "feed")
	s.nextSubscribed(t)
	publish := func(v string) {
		t.Helper()
		if _, err := ts.node.Publish(ctx, "feed", json.RawMessage(`"`+v+`"`)); err != nil {
			t.Fatal(err)
		}
	}
	publish("a")
	s.nextPub(t)

	if err := ts.node.Disconnect(ctx, "u1", "", protocol.CloseForceReconnect, ""); err != nil {
		t.Fatal(err)
	}
	receive(t, asked, "the reconnect's token request")
	publish("b")
	publish("c")
	close(gate)

	ev := s.nextSubscribed(t)
	if !ev.Resubscribed || !ev.Recovering || !ev.Recovered {
		t.Fatalf("resubscribed event = %+v", ev)
	}
	publish("d")
	for _, want := range []string{`"b"`, `"c"`, `"d"`} {
		if p := s.nextPub(t); string(p.Data) != want {
			t.Fatalf("got %s, want %s", p.Data, want)
		}
	}
	noneWithin(t, s.pubs, 30*time.Millisecond, "duplicate publication")
}
