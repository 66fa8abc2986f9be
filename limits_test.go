package herald_test

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/protocol"
)

func TestConnectionFloodFromOneAddress(t *testing.T) {
	ts := startServer(t, herald.Config{Limits: herald.Limits{ConnectRatePerIP: 5, ConnectBurstPerIP: 5}})
	refused := 0
	for i := 0; i < 30; i++ {
		_, status, err := wstest.TryDial(t, ts.url, "127.0.0.1")
		if err != nil {
			if status != http.StatusTooManyRequests {
				t.Fatalf("dial %d: status %d (%v)", i, status, err)
			}
			refused++
		}
	}
	if refused < 20 {
		t.Fatalf("only %d of 30 connections refused at 5 per second", refused)
	}
	// Another address still gets in.
	c, status, err := wstest.TryDial(t, ts.url, "127.0.0.2")
	if err != nil {
		t.Fatalf("another address was refused: %d %v", status, err)
	}
	c.Connect()
}

func TestConnectionCaps(t *testing.T) {
	t.Run("per address", func(t *testing.T) {
		ts := startServer(t, herald.Config{Limits: herald.Limits{MaxConnectionsPerIP: 2}})
		a, _, err := wstest.TryDial(t, ts.url, "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := wstest.TryDial(t, ts.url, "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		if _, status, err := wstest.TryDial(t, ts.url, "127.0.0.1"); err == nil || status != http.StatusTooManyRequests {
			t.Fatalf("third connection: %d %v", status, err)
		}
		if _, _, err := wstest.TryDial(t, ts.url, "127.0.0.3"); err != nil {
			t.Fatalf("another address: %v", err)
		}
		a.Conn.CloseNow()
		deadline := time.Now().Add(5 * time.Second)
		for {
			if _, _, err := wstest.TryDial(t, ts.url, "127.0.0.1"); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("a closed connection did not free its slot")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	t.Run("per node", func(t *testing.T) {
		ts := startServer(t, herald.Config{Limits: herald.Limits{MaxConnections: 2}})
		ts.dial(t)
		ts.dial(t)
		if _, status, err := wstest.TryDial(t, ts.url, "127.0.0.4"); err == nil || status != http.StatusServiceUnavailable {
			t.Fatalf("third connection: %d %v", status, err)
		}
	})
	t.Run("per user", func(t *testing.T) {
		ts := startServer(t, herald.Config{Limits: herald.Limits{MaxConnectionsPerUser: 1}})
		usersByToken(ts.node)
		dialAs(t, ts, "alice")
		c := wstest.Dial(t, ts.url)
		r := c.Call(map[string]any{"op": "connect", "token": "alice"})
		if r.Error == nil || r.Error.Code != protocol.CodeLimitExceeded {
			t.Fatalf("%+v", r)
		}
		if code := c.ExpectClose(5 * time.Second); code != protocol.CloseConnectionLimit {
			t.Fatalf("close %d", code)
		}
		dialAs(t, ts, "bob")
	})
}

// 10,000 commands at once from one client: the excess is answered 110,
// the flood ends with a close, and another client is not slowed.
func TestCommandFlood(t *testing.T) {
	ts := startServer(t, herald.Config{})
	by := newBystander(t, ts)
	c := ts.dial(t)
	var frame strings.Builder
	for i := 0; i < 10000; i++ {
		if i > 0 {
			frame.WriteByte('\n')
		}
		fmt.Fprintf(&frame, `{"id":%d,"op":"publish","channel":"flood","data":%d}`, 100+i, i)
	}
	// Sent in pieces under the message size limit.
	lines := strings.Split(frame.String(), "\n")
	for i := 0; i < len(lines); i += 500 {
		if err := c.SendRaw(strings.Join(lines[i:min(i+500, len(lines))], "\n")); err != nil {
			break // closed mid-flood
		}
	}
	code := c.ExpectClose(10 * time.Second)
	if code != protocol.CloseForceReconnect {
		t.Fatalf("close %d, want 3004", code)
	}
	limited := 0
	for _, m := range c.Messages() {
		if m.Error != nil && m.Error.Code == protocol.CodeTooManyRequests {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("no command was answered 110")
	}
	by.check()
}

func TestChannelLimits(t *testing.T) {
	ts := startServer(t, herald.Config{})
	c := ts.dial(t)
	r := c.Call(map[string]any{"op": "subscribe", "channel": strings.Repeat("x", 10<<10)})
	if r.Error == nil || r.Error.Code != protocol.CodeBadRequest {
		t.Fatalf("10 KB name: %+v", r)
	}
	for _, bad := range []string{"with space", "tab\there", "nul\x00"} {
		r := c.Call(map[string]any{"op": "publish", "channel": bad, "data": 1})
		if r.Error == nil || r.Error.Code != protocol.CodeBadRequest {
			t.Fatalf("%q: %+v", bad, r)
		}
	}
	// Subscribing to many channels stops at the per-connection cap (the
	// batch stays inside the command burst).
	var frame strings.Builder
	for i := 0; i < 150; i++ {
		if i > 0 {
			frame.WriteByte('\n')
		}
		fmt.Fprintf(&frame, `{"id":%d,"op":"subscribe","channel":"c%d"}`, 1000+i, i)
	}
	if err := c.SendRaw(frame.String()); err != nil {
		t.Fatal(err)
	}
	ok, capped := 0, 0
	for i := 0; i < 150; i++ {
		r := c.WaitReply(uint64(1000 + i))
		switch {
		case r.Error == nil:
			ok++
		case r.Error.Code == protocol.CodeLimitExceeded:
			capped++
		default:
			t.Fatalf("%+v", r.Error)
		}
	}
	if ok != 128 || capped != 22 {
		t.Fatalf("%d subscribed, %d refused; want 128 and 22", ok, capped)
	}
}

// Behind a trusted proxy, the per-address limits count the client's
// address from X-Forwarded-For; from an untrusted peer, or with no trusted
// proxies, the header is ignored, so a client cannot dodge the limits by
// writing it.
func TestPerAddressLimitsBehindTrustedProxy(t *testing.T) {
	// Clients dial from 127.0.0.1, the "proxy", and from 127.0.0.2, a
	// client reaching the node directly.
	proxy := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	xff := func(ip string) http.Header { return http.Header{"X-Forwarded-For": {ip}} }
	dial := func(t *testing.T, ts *testServer, from, forwarded string) (*wstestClient, error) {
		t.Helper()
		c, status, err := wstest.TryDial(t, ts.url, from, xff(forwarded))
		if err != nil && status != http.StatusTooManyRequests {
			t.Fatalf("dial from %s for %s: status %d (%v)", from, forwarded, status, err)
		}
		return c, err
	}

	t.Run("connections per address", func(t *testing.T) {
		ts := startServer(t, herald.Config{TrustedProxies: proxy, Limits: herald.Limits{MaxConnectionsPerIP: 1}})
		remote := make(chan string, 10)
		ts.node.OnConnect(func(_ context.Context, e *herald.ConnectEvent) (herald.ConnectReply, error) {
			remote <- e.RemoteAddr
			return herald.ConnectReply{}, nil
		})
		a, err := dial(t, ts, "127.0.0.1", "198.51.100.66, 203.0.113.1")
		if err != nil {
			t.Fatalf("first client: %v", err)
		}
		a.Connect()
		if got := <-remote; got != "203.0.113.1" {
			t.Errorf("ConnectEvent.RemoteAddr = %q, want the forwarded client 203.0.113.1", got)
		}
		// Another client through the same proxy has its own allowance.
		b, err := dial(t, ts, "127.0.0.1", "203.0.113.2")
		if err != nil {
			t.Fatalf("second client through the same proxy was refused: %v", err)
		}
		b.Connect()
		if got := <-remote; got != "203.0.113.2" {
			t.Errorf("ConnectEvent.RemoteAddr = %q, want 203.0.113.2", got)
		}
		// The first client again, even with another spoofed left-most
		// entry, is over its own limit.
		if _, err := dial(t, ts, "127.0.0.1", "198.51.100.77, 203.0.113.1"); err == nil {
			t.Fatal("a second connection from 203.0.113.1 was accepted")
		}
		// A direct client is not trusted to name itself.
		d, err := dial(t, ts, "127.0.0.2", "203.0.113.3")
		if err != nil {
			t.Fatalf("direct client: %v", err)
		}
		d.Connect()
		if got := <-remote; !strings.HasPrefix(got, "127.0.0.2:") {
			t.Errorf("ConnectEvent.RemoteAddr = %q, want the peer 127.0.0.2:port", got)
		}
		if _, err := dial(t, ts, "127.0.0.2", "203.0.113.4"); err == nil {
			t.Fatal("an untrusted peer dodged its limit with X-Forwarded-For")
		}
		// Closing the first client frees the forwarded address's slot.
		a.Conn.CloseNow()
		deadline := time.Now().Add(5 * time.Second)
		for {
			if _, err := dial(t, ts, "127.0.0.1", "203.0.113.1"); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("a closed forwarded connection did not free its slot")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})

	t.Run("connect rate per address", func(t *testing.T) {
		ts := startServer(t, herald.Config{TrustedProxies: proxy, Limits: herald.Limits{ConnectRatePerIP: 0.1, ConnectBurstPerIP: 1}})
		if _, err := dial(t, ts, "127.0.0.1", "203.0.113.1"); err != nil {
			t.Fatalf("first client: %v", err)
		}
		if _, err := dial(t, ts, "127.0.0.1", "203.0.113.1"); err == nil {
			t.Fatal("203.0.113.1 connected twice within its rate")
		}
		if _, err := dial(t, ts, "127.0.0.1", "203.0.113.2"); err != nil {
			t.Fatalf("another client through the same proxy was refused: %v", err)
		}
		if _, err := dial(t, ts, "127.0.0.2", "203.0.113.3"); err != nil {
			t.Fatalf("direct client: %v", err)
		}
		if _, err := dial(t, ts, "127.0.0.2", "203.0.113.4"); err == nil {
			t.Fatal("an untrusted peer dodged its rate with X-Forwarded-For")
		}
	})

	t.Run("no trusted proxies", func(t *testing.T) {
		ts := startServer(t, herald.Config{Limits: herald.Limits{MaxConnectionsPerIP: 1}})
		if _, err := dial(t, ts, "127.0.0.1", "203.0.113.1"); err != nil {
			t.Fatalf("first client: %v", err)
		}
		if _, err := dial(t, ts, "127.0.0.1", "203.0.113.2"); err == nil {
			t.Fatal("X-Forwarded-For was believed without a trusted proxy")
		}
	})
}

func TestNewRefusesInvalidTrustedProxy(t *testing.T) {
	_, err := herald.New(herald.Config{TrustedProxies: []netip.Prefix{{}}})
	if err == nil || !strings.Contains(err.Error(), "TrustedProxies[0]") {
		t.Fatalf("New with an invalid prefix: %v", err)
	}
}
