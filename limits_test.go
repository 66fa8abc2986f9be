package herald_test

import (
	"fmt"
	"net/http"
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
