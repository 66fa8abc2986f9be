package client

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/protocol"
)

func TestConnectSubscribePublish(t *testing.T) {
	ts := startServer(t, herald.Config{Channels: herald.ChannelOptions{HistorySize: 16}})
	ctx := testCtx(t)
	ra := newRecorder()
	a := newClient(t, ts.url, ra.options(Options{}))
	b := newClient(t, ts.url, Options{})
	for _, c := range []*Client{a, b} {
		if err := c.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		if s := c.State(); s != StateConnected {
			t.Fatalf("state after Connect = %v", s)
		}
	}
	sa, sb := newSubRecorder(), newSubRecorder()
	subA, err := a.Subscribe(ctx, "chat:lobby", sa.handlers())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Subscribe(ctx, "chat:lobby", sb.handlers()); err != nil {
		t.Fatal(err)
	}
	if ev := sa.nextSubscribed(t); ev.Resubscribed || !ev.Recoverable || ev.Epoch == "" {
		t.Fatalf("first subscribed event = %+v", ev)
	}

	const n = 10
	var last uint64
	for i := 0; i < n; i++ {
		data := json.RawMessage(`{"i":` + strconv.Itoa(i) + `}`)
		if i%2 == 0 {
			res, err := a.Publish(ctx, "chat:lobby", data)
			if err != nil {
				t.Fatal(err)
			}
			if res.Offset <= last || res.Epoch == "" {
				t.Fatalf("publish result %+v after offset %d", res, last)
			}
			last = res.Offset
		} else {
			res, err := ts.node.Publish(ctx, "chat:lobby", data)
			if err != nil {
				t.Fatal(err)
			}
			last = res.Offset
		}
	}
	clientID := read(ra, func() int { return len(ra.connected) })
	if clientID != 1 {
		t.Fatalf("OnConnected called %d times", clientID)
	}
	me := read(ra, func() string { return ra.connected[0].Client })
	for name, s := range map[string]*subRecorder{"a": sa, "b": sb} {
		for i := 0; i < n; i++ {
			p := s.nextPub(t)
			var d struct{ I int }
			if err := json.Unmarshal(p.Data, &d); err != nil || d.I != i || p.Channel != "chat:lobby" {
				t.Fatalf("%s: publication %d = %+v (%s)", name, i, p, p.Data)
			}
			if i%2 == 0 && (p.Info == nil || p.Info.Client != me) {
				t.Fatalf("%s: publication %d has publisher %+v, want client %s", name, i, p.Info, me)
			}
			if p.Time.IsZero() {
				t.Fatalf("%s: publication %d has no time", name, i)
			}
		}
	}
	if pos := subA.Position(); pos.Offset != last {
		t.Fatalf("position = %+v, want offset %d", pos, last)
	}

	// Subscribing twice is refused locally.
	if _, err := a.Subscribe(ctx, "chat:lobby", SubscriptionHandlers{}); !errors.Is(err, ErrAlreadySubscribed) {
		t.Fatalf("second subscribe: %v", err)
	}
}

func TestRPC(t *testing.T) {
	ts := startServer(t, herald.Config{})
	ts.node.OnRPC("echo", func(_ context.Context, _ *herald.Session, data json.RawMessage) (any, error) {
		return data, nil
	})
	ts.node.OnRPC("fail", func(context.Context, *herald.Session, json.RawMessage) (any, error) {
		return nil, herald.NewError(1001, "quota reached")
	})
	ctx := testCtx(t)
	c := connectClient(t, ts.url, Options{})
	out, err := c.RPC(ctx, "echo", map[string]string{"hello": "world"})
	if err != nil || string(out) != `{"hello":"world"}` {
		t.Fatalf("echo = %s, %v", out, err)
	}

	_, err = c.RPC(ctx, "nope", nil)
	var perr *protocol.Error
	if !errors.As(err, &perr) || perr.Code != protocol.CodeMethodNotFound {
		t.Fatalf("unknown method: %v", err)
	}
	if !errors.Is(err, ErrMethodNotFound) || Code(err) != 104 || errors.Is(err, ErrPermissionDenied) {
		t.Fatalf("unknown method error does not match its sentinel: %v", err)
	}

	_, err = c.RPC(ctx, "fail", nil)
	if Code(err) != 1001 {
		t.Fatalf("application error: %v", err)
	}
	if c.pendingCount() != 0 {
		t.Fatalf("%d commands left pending", c.pendingCount())
	}
}

func TestRPCHonorsContextDeadline(t *testing.T) {
	ts := startServer(t, herald.Config{})
	release := make(chan struct{})
	ts.node.OnRPC("slow", func(context.Context, *herald.Session, json.RawMessage) (any, error) {
		select {
		case <-release:
		case <-time.After(3 * time.Second):
		}
		return "late", nil
	})
	ts.node.OnRPC("echo", func(_ context.Context, _ *herald.Session, data json.RawMessage) (any, error) {
		return data, nil
	})
	c := connectClient(t, ts.url, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.RPC(ctx, "slow", nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow rpc: %v", err)
	}
	if n := c.pendingCount(); n != 0 {
		t.Fatalf("the timed-out command left %d pending entries", n)
	}
	close(release)
	// The late reply is dropped, and the connection keeps working.
	out, err := c.RPC(testCtx(t), "echo", 7)
	if err != nil || string(out) != "7" {
		t.Fatalf("echo after timeout = %s, %v", out, err)
	}
}

func TestSendAndMessages(t *testing.T) {
	ts := startServer(t, herald.Config{})
	got := make(chan string, 1)
	ts.node.OnMessage(func(_ context.Context, _ *herald.Session, data json.RawMessage) { got <- string(data) })
	ts.node.OnRPC("push", func(_ context.Context, s *herald.Session, data json.RawMessage) (any, error) {
		return nil, s.Send(data)
	})
	msgs := make(chan string, 1)
	ctx := testCtx(t)
	c := connectClient(t, ts.url, Options{OnMessage: func(d json.RawMessage) { msgs <- string(d) }})
	if err := c.Send(ctx, map[string]int{"n": 1}); err != nil {
		t.Fatal(err)
	}
	if s := receive(t, got, "message on the server"); s != `{"n":1}` {
		t.Fatalf("server got %s", s)
	}
	if _, err := c.RPC(ctx, "push", json.RawMessage(`"ding"`)); err != nil {
		t.Fatal(err)
	}
	if s := receive(t, msgs, "message push"); s != `"ding"` {
		t.Fatalf("client got %s", s)
	}
	if err := c.Send(ctx, json.RawMessage(`{bad`)); !errors.Is(err, ErrInvalidData) {
		t.Fatalf("send of invalid JSON: %v", err)
	}
}

func TestSubscribeRefusedAndUnsubscribe(t *testing.T) {
	ts := startServer(t, herald.Config{})
	ts.node.OnSubscribe(func(_ context.Context, _ *herald.Session, e herald.SubscribeEvent) error {
		if e.Channel == "secret" {
			return herald.ErrPermissionDenied
		}
		return nil
	})
	ctx := testCtx(t)
	c := connectClient(t, ts.url, Options{})
	if _, err := c.Subscribe(ctx, "secret", SubscriptionHandlers{}); !errors.Is(err, ErrPermissionDenied) {
		t.Fatalf("subscribe to a denied channel: %v", err)
	}
	if len(c.Subscriptions()) != 0 {
		t.Fatal("a refused subscription was kept")
	}
	s := newSubRecorder()
	sub, err := c.Subscribe(ctx, "open", s.handlers())
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := ts.node.Channels(""); len(got) != 1 || got[0].Channel != "open" {
		t.Fatalf("server channels = %+v", got)
	}
	if err := sub.Unsubscribe(ctx); err != nil {
		t.Fatal(err)
	}
	if ev := receive(t, s.unsub, "unsubscribed event"); ev.Channel != "open" {
		t.Fatalf("unsubscribed event = %+v", ev)
	}
	if got, _ := ts.node.Channels(""); len(got) != 0 {
		t.Fatalf("server channels after unsubscribe = %+v", got)
	}
	if _, err := ts.node.Publish(ctx, "open", json.RawMessage(`1`)); err != nil {
		t.Fatal(err)
	}
	noneWithin(t, s.pubs, 50*time.Millisecond, "publication after unsubscribe")
	// Subscribing again works.
	if _, err := c.Subscribe(ctx, "open", SubscriptionHandlers{}); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentUse(t *testing.T) {
	ts := startServer(t, herald.Config{Channels: herald.ChannelOptions{HistorySize: 100}})
	ts.node.OnRPC("echo", func(_ context.Context, _ *herald.Session, data json.RawMessage) (any, error) {
		return data, nil
	})
	ctx := testCtx(t)
	c := connectClient(t, ts.url, Options{})
	s := subscribe(t, c, "busy")
	var wg sync.WaitGroup
	const workers, each = 8, 10
	errs := make(chan error, workers*each*2)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if out, err := c.RPC(ctx, "echo", i); err != nil || string(out) != strconv.Itoa(i) {
					errs <- errors.New("echo " + strconv.Itoa(i) + " = " + string(out))
				}
				if _, err := c.Publish(ctx, "busy", i); err != nil {
					errs <- err
				}
				_ = c.State()
				_ = c.Subscriptions()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var last uint64
	for i := 0; i < workers*each; i++ {
		p := s.nextPub(t)
		if p.Offset <= last {
			t.Fatalf("offset %d after %d", p.Offset, last)
		}
		last = p.Offset
	}
}

func TestInvalidInput(t *testing.T) {
	c := New("127.0.0.1:8080", Options{})
	defer c.Close()
	if err := c.Connect(context.Background()); !errors.Is(err, ErrInvalidURL) {
		t.Fatalf("connect to a URL without scheme: %v", err)
	}
	if _, err := c.Publish(context.Background(), "", 1); !errors.Is(err, ErrInvalidChannel) {
		t.Fatalf("publish to no channel: %v", err)
	}
	if _, err := c.Publish(context.Background(), "x", func() {}); !errors.Is(err, ErrInvalidData) {
		t.Fatalf("publish of a func: %v", err)
	}
	if _, err := c.Publish(context.Background(), "x", 1); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("publish before Connect: %v", err)
	}
	if _, err := c.Subscribe(context.Background(), "x", SubscriptionHandlers{}); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("subscribe before Connect: %v", err)
	}
}

func TestHistory(t *testing.T) {
	ts := startServer(t, herald.Config{Channels: herald.ChannelOptions{HistorySize: 10}})
	ctx := testCtx(t)
	c := connectClient(t, ts.url, Options{})
	var epoch string
	for i := 1; i <= 3; i++ {
		res, err := c.Publish(ctx, "log", i, WithKey("k"+strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		epoch = res.Epoch
	}
	// The same key publishes nothing again.
	if res, err := c.Publish(ctx, "log", 99, WithKey("k3")); err != nil || res.Offset != 3 {
		t.Fatalf("duplicate publish = %+v, %v", res, err)
	}
	h, err := c.History(ctx, "log", HistoryOptions{Since: &StreamPosition{Offset: 1, Epoch: epoch}})
	if err != nil {
		t.Fatal(err)
	}
	if h.Offset != 3 || len(h.Publications) != 2 || string(h.Publications[0].Data) != "2" || h.Publications[1].Channel != "log" {
		t.Fatalf("history = %+v", h)
	}

	plain := startServer(t, herald.Config{})
	c2 := connectClient(t, plain.url, Options{})
	if _, err := c2.History(ctx, "log", HistoryOptions{}); !errors.Is(err, ErrNotAvailable) {
		t.Fatalf("history without history: %v", err)
	}
}

// When the channel's history expires while subscribed, the stream starts
// over at offset 1 in a new epoch; the client must take that publication
// as new, not as a duplicate of its old offset 1.
func TestNewEpochWhileSubscribed(t *testing.T) {
	ts := startServer(t, herald.Config{Channels: herald.ChannelOptions{HistorySize: 10, HistoryTTL: 300 * time.Millisecond}})
	ctx := testCtx(t)
	c := connectClient(t, ts.url, Options{})
	sr := subscribe(t, c, "c")
	sr.nextSubscribed(t)
	for i := 0; i < 3; i++ {
		if _, err := ts.node.Publish(ctx, "c", json.RawMessage(`"old"`)); err != nil {
			t.Fatal(err)
		}
		sr.nextPub(t)
	}
	time.Sleep(700 * time.Millisecond)
	if _, err := ts.node.Publish(ctx, "c", json.RawMessage(`"new"`)); err != nil {
		t.Fatal(err)
	}
	if p := sr.nextPub(t); p.Offset != 1 || string(p.Data) != `"new"` {
		t.Fatalf("got %+v", p)
	}
}
