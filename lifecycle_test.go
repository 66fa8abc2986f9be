package herald_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/protocol"
)

func TestRPCRoundTripAndUnknownMethod(t *testing.T) {
	ts := startServer(t, herald.Config{})
	ts.node.OnRPC("sum", func(_ context.Context, s *herald.Session, data json.RawMessage) (any, error) {
		var xs []int
		if err := json.Unmarshal(data, &xs); err != nil {
			return nil, herald.NewError(1001, "want an array of numbers")
		}
		total := 0
		for _, x := range xs {
			total += x
		}
		return map[string]any{"sum": total, "client": s.ID()}, nil
	})
	c := ts.dial(t)
	r := c.Call(map[string]any{"op": "rpc", "method": "sum", "data": []int{1, 2, 3}})
	if r.Error != nil {
		t.Fatal(r.Error)
	}
	var res struct {
		Data struct {
			Sum    int
			Client string
		}
	}
	if err := json.Unmarshal(r.Result, &res); err != nil || res.Data.Sum != 6 || res.Data.Client == "" {
		t.Fatalf("result %s: %v", r.Result, err)
	}
	r = c.Call(map[string]any{"op": "rpc", "method": "sum", "data": "nope"})
	if r.Error == nil || r.Error.Code != 1001 {
		t.Fatalf("want application error 1001, got %+v", r)
	}
	r = c.Call(map[string]any{"op": "rpc", "method": "missing"})
	if r.Error == nil || r.Error.Code != protocol.CodeMethodNotFound {
		t.Fatalf("want error 104, got %+v", r)
	}
}

func TestSendReachesMessageHandler(t *testing.T) {
	ts := startServer(t, herald.Config{})
	got := make(chan string, 1)
	ts.node.OnMessage(func(_ context.Context, s *herald.Session, data json.RawMessage) {
		got <- string(data)
		_ = s.Send(json.RawMessage(`{"echo":true}`))
	})
	c := ts.dial(t)
	if err := c.SendRaw(`{"op":"send","data":{"hello":1}}`); err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-got:
		if d != `{"hello":1}` {
			t.Fatalf("handler got %s", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("message handler not called")
	}
	if m, err := c.NextPush("message", 5*time.Second); err != nil || string(m.Data) != `{"echo":true}` {
		t.Fatalf("message push %+v %v", m, err)
	}
}

func TestConnectHandlerRefusal(t *testing.T) {
	ts := startServer(t, herald.Config{})
	ts.node.OnConnect(func(_ context.Context, e *herald.ConnectEvent) (herald.ConnectReply, error) {
		switch e.Token {
		case "good":
			return herald.ConnectReply{User: "alice"}, nil
		case "expired":
			return herald.ConnectReply{}, herald.ErrTokenExpired
		default:
			return herald.ConnectReply{}, herald.ErrUnauthorized
		}
	})
	for _, tc := range []struct {
		token     string
		errCode   int
		closeCode int
	}{
		{"bad", protocol.CodeUnauthorized, protocol.CloseInvalidToken},
		{"expired", protocol.CodeTokenExpired, protocol.CloseTokenExpired},
	} {
		c := wstest.Dial(t, ts.url)
		r := c.Call(map[string]any{"op": "connect", "token": tc.token})
		if r.Error == nil || r.Error.Code != tc.errCode {
			t.Fatalf("token %q: want error %d, got %+v", tc.token, tc.errCode, r)
		}
		if code := c.ExpectClose(5 * time.Second); code != tc.closeCode {
			t.Fatalf("token %q: close %d, want %d", tc.token, code, tc.closeCode)
		}
	}
	c := wstest.Dial(t, ts.url)
	if res := c.Connect(map[string]any{"token": "good"}); res.User != "alice" || res.Ping != 25 {
		t.Fatalf("connect result %+v", res)
	}
}

// disconnects records the close codes that OnDisconnect reports, by client.
type disconnects struct {
	mu    sync.Mutex
	codes map[string]int
	ch    chan string
}

func watchDisconnects(n *herald.Node) *disconnects {
	d := &disconnects{codes: map[string]int{}, ch: make(chan string, 100)}
	n.OnDisconnect(func(s *herald.Session, e herald.DisconnectEvent) {
		d.mu.Lock()
		d.codes[s.ID()] = e.Code
		d.mu.Unlock()
		d.ch <- s.ID()
	})
	return d
}

func (d *disconnects) wait(t *testing.T, client string, timeout time.Duration) int {
	t.Helper()
	deadline := time.After(timeout)
	for {
		d.mu.Lock()
		code, ok := d.codes[client]
		d.mu.Unlock()
		if ok {
			return code
		}
		select {
		case <-d.ch:
		case <-deadline:
			t.Fatalf("client %s was not disconnected", client)
		}
	}
}

func TestSlowConsumerIsDisconnectedOthersGetEverything(t *testing.T) {
	ts := startServer(t, herald.Config{WriteQueueSize: 256 << 10})
	d := watchDisconnects(ts.node)
	fast := ts.dial(t)
	fast.Call(map[string]any{"op": "subscribe", "channel": "firehose"})

	slow := wstest.Dial(t, ts.url)
	slowID := slow.Connect().Client
	slow.Call(map[string]any{"op": "subscribe", "channel": "firehose"})
	// From here on the slow client reads nothing.

	payload := make([]byte, 4000)
	for i := range payload {
		payload[i] = 'x'
	}
	const n = 3000 // 12 MB: far past the queue bound and the kernel's buffers
	// The publisher stays at most a few messages ahead of the fast reader,
	// so only the client that stopped reading can fall behind.
	progress := make(chan int, n)
	received := make(chan error, 1)
	go func() {
		for i := 1; i <= n; i++ {
			m, err := fast.NextPush("pub", 10*time.Second)
			if err != nil {
				received <- err
				return
			}
			var d struct{ I int }
			if err := json.Unmarshal(m.Data, &d); err != nil || d.I != i {
				received <- errors.New("out of order or corrupt: " + string(m.Data[:min(40, len(m.Data))]))
				return
			}
			progress <- i
		}
		received <- nil
	}()
	got := 0
	for i := 1; i <= n; i++ {
		for got < i-8 {
			select {
			case got = <-progress:
			case err := <-received:
				t.Fatalf("fast subscriber: %v", err)
			}
		}
		data := json.RawMessage(`{"i":` + itoa(i) + `,"pad":"` + string(payload) + `"}`)
		if _, err := ts.node.Publish(context.Background(), "firehose", data); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-received; err != nil {
		t.Fatalf("fast subscriber: %v", err)
	}
	if code := d.wait(t, slowID, 10*time.Second); code != protocol.CloseSlowConsumer {
		t.Fatalf("slow client closed with %d, want %d", code, protocol.CloseSlowConsumer)
	}
}

func TestNoPongClosesConnection(t *testing.T) {
	ts := startServer(t, herald.Config{PingInterval: 100 * time.Millisecond, PongTimeout: 100 * time.Millisecond})
	c := ts.dial(t)
	if _, err := c.Next(2 * time.Second); err != nil { // the ping
		t.Fatal(err)
	}
	if code := c.ExpectClose(5 * time.Second); code != protocol.CloseNoPong {
		t.Fatalf("close %d, want %d", code, protocol.CloseNoPong)
	}
}

func TestPongKeepsConnectionAlive(t *testing.T) {
	ts := startServer(t, herald.Config{PingInterval: 50 * time.Millisecond, PongTimeout: 100 * time.Millisecond})
	c := ts.dial(t)
	for i := 0; i < 5; i++ {
		m, err := c.Next(2 * time.Second)
		if err != nil || m.Op != "ping" {
			t.Fatalf("ping %d: %+v %v", i, m, err)
		}
		if err := c.SendRaw(`{"op":"pong"}`); err != nil {
			t.Fatal(err)
		}
	}
}

func TestConnectTimeout(t *testing.T) {
	ts := startServer(t, herald.Config{ConnectTimeout: 100 * time.Millisecond})
	c := wstest.Dial(t, ts.url)
	if code := c.ExpectClose(5 * time.Second); code != protocol.CloseConnectTimeout {
		t.Fatalf("close %d, want %d", code, protocol.CloseConnectTimeout)
	}
}

func TestShutdownSendsReconnectingDisconnect(t *testing.T) {
	ts := startServer(t, herald.Config{ShutdownWindow: 200 * time.Millisecond})
	clients := []*wstest.Client{ts.dial(t), ts.dial(t), ts.dial(t)}
	idle := wstest.Dial(t, ts.url) // never sends connect
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- ts.node.Shutdown(ctx) }()
	for i, c := range clients {
		m, err := c.NextPush("disconnect", 5*time.Second)
		if err != nil || m.Code != protocol.CloseShutdown || !m.Reconnect {
			t.Fatalf("client %d: %+v %v", i, m, err)
		}
		if code := c.ExpectClose(5 * time.Second); code != protocol.CloseShutdown {
			t.Fatalf("client %d: close %d", i, code)
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	_ = idle
	// A new connection is refused while draining or after.
	if _, _, err := websocket.Dial(context.Background(), ts.url, nil); err == nil {
		t.Fatal("dial after shutdown succeeded")
	}
}
