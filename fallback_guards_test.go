package herald_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/internal/streamtest"
	"github.com/heraldrt/herald/protocol"
)

// The guard rails of a WebSocket connection hold on each fallback
// transport: heartbeats, slow consumers, Origin checks, authentication,
// connection limits and graceful shutdown.

func TestFallbackHeartbeat(t *testing.T) {
	fallbacks(t, func(t *testing.T, kind string) {
		ts := startServer(t, herald.Config{PingInterval: 50 * time.Millisecond, PongTimeout: 300 * time.Millisecond})
		silent := ts.openConnected(t, kind)
		answering := ts.openConnected(t, kind)
		for i := 0; i < 4; i++ {
			m, err := answering.Next(5 * time.Second)
			if err != nil || m.Op != "ping" {
				t.Fatalf("ping %d: %+v %v", i, m, err)
			}
			if st := answering.SendRaw(`{"op":"pong"}`); st != http.StatusNoContent {
				t.Fatalf("pong: status %d", st)
			}
		}
		if code := silent.ExpectEnd(5 * time.Second); code != protocol.CloseNoPong {
			t.Fatalf("silent client: disconnect %d, want %d", code, protocol.CloseNoPong)
		}
		if r := answering.Call(map[string]any{"op": "subscribe", "channel": "still-here"}); r.Error != nil {
			t.Fatal(r.Error)
		}
	})
}

func TestFallbackSlowConsumer(t *testing.T) {
	fallbacks(t, func(t *testing.T, kind string) {
		ts := startServer(t, herald.Config{WriteQueueSize: 256 << 10})
		d := watchDisconnects(ts.node)
		// A stream whose client reads nothing after connect: a raw
		// connection with a small receive buffer.
		conn, err := net.Dial("tcp", strings.TrimPrefix(ts.base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.(*net.TCPConn).SetReadBuffer(4096)
		if _, err := conn.Write([]byte("GET /" + kind + " HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(conn)
		var session, secret string
		for session == "" {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			var h struct{ Session, Secret string }
			if i := strings.Index(line, `{"session"`); i >= 0 && json.Unmarshal([]byte(line[i:]), &h) == nil {
				session, secret = h.Session, h.Secret
			}
		}
		poster := &streamtest.Client{CmdURL: ts.base + "/cmd"}
		if st := poster.Post(session, secret, 1, `{"op":"connect","id":1}`+"\n"+`{"op":"subscribe","id":2,"channel":"firehose"}`); st != http.StatusNoContent {
			t.Fatalf("connect: %d", st)
		}
		deadline := time.Now().Add(5 * time.Second)
		for ts.node.Info().Subscriptions == 0 {
			if time.Now().After(deadline) {
				t.Fatal("the slow client did not subscribe")
			}
			time.Sleep(10 * time.Millisecond)
		}
		pad := strings.Repeat("x", 4000)
		for i := 0; i < 3000; i++ { // 12 MB, far past the queue and the socket buffers
			if _, err := ts.node.Publish(context.Background(), "firehose", json.RawMessage(`{"pad":"`+pad+`"}`)); err != nil {
				t.Fatal(err)
			}
			if code, ok := d.any(); ok {
				if code != protocol.CloseSlowConsumer {
					t.Fatalf("closed with %d, want %d", code, protocol.CloseSlowConsumer)
				}
				return
			}
		}
		if code := d.next(t, 10*time.Second); code != protocol.CloseSlowConsumer {
			t.Fatalf("closed with %d, want %d", code, protocol.CloseSlowConsumer)
		}
	})
}

func TestFallbackOriginCheck(t *testing.T) {
	fallbacks(t, func(t *testing.T, kind string) {
		ts := startServer(t, herald.Config{})
		evil := http.Header{"Origin": {"https://evil.example"}}
		if _, st, err := streamtest.TryOpen(t, ts.base, kind, evil); err == nil || st != http.StatusForbidden {
			t.Fatalf("cross-origin stream: %d %v", st, err)
		}
		same := http.Header{"Origin": {ts.base}}
		c := streamtest.Open(t, ts.base, kind, same)
		// A POST from a hostile page is refused even with the secret.
		req, _ := http.NewRequest(http.MethodPost, ts.base+"/cmd",
			strings.NewReader(`{"session":"`+c.Session+`","secret":"`+c.Secret+`","seq":1}`+"\n"+`{"op":"connect","id":1}`))
		req.Header.Set("Origin", "https://evil.example")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-origin POST: %d", resp.StatusCode)
		}
		c.Connect()
	})
}

func TestFallbackAuthentication(t *testing.T) {
	fallbacks(t, func(t *testing.T, kind string) {
		ts := startServer(t, herald.Config{})
		var header string
		ts.node.OnConnect(func(_ context.Context, e *herald.ConnectEvent) (herald.ConnectReply, error) {
			if e.Token != "good" {
				return herald.ConnectReply{}, herald.ErrUnauthorized
			}
			header = e.Header.Get("X-Test")
			return herald.ConnectReply{User: "alice"}, nil
		})
		c := streamtest.Open(t, ts.base, kind)
		r := c.Call(map[string]any{"op": "connect", "token": "bad"})
		if r.Error == nil || r.Error.Code != protocol.CodeUnauthorized {
			t.Fatalf("bad token: %+v", r)
		}
		if code := c.ExpectEnd(5 * time.Second); code != protocol.CloseInvalidToken {
			t.Fatalf("bad token: disconnect %d", code)
		}
		c = streamtest.Open(t, ts.base, kind, http.Header{"X-Test": {"from-the-stream"}})
		if res := c.Connect(map[string]any{"token": "good"}); res.User != "alice" {
			t.Fatalf("%+v", res)
		}
		if header != "from-the-stream" {
			t.Fatalf("OnConnect saw header %q, want the stream request's", header)
		}
	})
}

func TestFallbackConnectionLimits(t *testing.T) {
	fallbacks(t, func(t *testing.T, kind string) {
		ts := startServer(t, herald.Config{Limits: herald.Limits{MaxConnections: 2}})
		a := streamtest.Open(t, ts.base, kind)
		ts.dial(t) // a WebSocket counts too
		if _, st, err := streamtest.TryOpen(t, ts.base, kind); err == nil || st != http.StatusServiceUnavailable {
			t.Fatalf("third connection: %d %v", st, err)
		}
		a.Cut()
		deadline := time.Now().Add(5 * time.Second)
		for {
			if _, _, err := streamtest.TryOpen(t, ts.base, kind); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("a closed stream did not free its slot")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	t.Run("per address", func(t *testing.T) {
		ts := startServer(t, herald.Config{Limits: herald.Limits{MaxConnectionsPerIP: 1}})
		streamtest.Open(t, ts.base, streamtest.SSE)
		if _, st, err := streamtest.TryOpen(t, ts.base, streamtest.Stream); err == nil || st != http.StatusTooManyRequests {
			t.Fatalf("second connection: %d %v", st, err)
		}
	})
}

func TestFallbackGracefulShutdown(t *testing.T) {
	fallbacks(t, func(t *testing.T, kind string) {
		ts := startServer(t, herald.Config{ShutdownWindow: 100 * time.Millisecond})
		clients := []*streamtest.Client{ts.openConnected(t, kind), ts.openConnected(t, kind)}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- ts.node.Shutdown(ctx) }()
		for i, c := range clients {
			m, err := c.NextPush("disconnect", 5*time.Second)
			if err != nil || m.Code != protocol.CloseShutdown || !m.Reconnect {
				t.Fatalf("client %d: %+v %v", i, m, err)
			}
			select {
			case <-c.Ended():
			case <-time.After(5 * time.Second):
				t.Fatalf("client %d: the stream did not end", i)
			}
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if _, st, err := streamtest.TryOpen(t, ts.base, kind); err == nil || st != http.StatusServiceUnavailable {
			t.Fatalf("stream after shutdown: %d %v", st, err)
		}
	})
}

// any returns the code of a disconnect recorded so far, if any.
func (d *disconnects) any() (int, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, code := range d.codes {
		return code, true
	}
	return 0, false
}

// next waits for the first disconnect and returns its code.
func (d *disconnects) next(t *testing.T, timeout time.Duration) int {
	t.Helper()
	deadline := time.After(timeout)
	for {
		if code, ok := d.any(); ok {
			return code
		}
		select {
		case <-d.ch:
		case <-deadline:
			t.Fatal("nobody was disconnected")
		}
	}
}
