package herald_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/protocol"
)

func TestWrongFieldTypeIsAnsweredNotFatal(t *testing.T) {
	ts := startServer(t, herald.Config{Channels: herald.ChannelOptions{HistorySize: 10}})
	c := ts.dial(t)
	r := c.Call(map[string]any{"op": "history", "channel": "x", "limit": "ten"})
	if r.Error == nil || r.Error.Code != protocol.CodeBadRequest || !strings.Contains(r.Error.Message, "limit") {
		t.Fatalf("want error 107 naming the field, got %+v", r)
	}
	if r := c.Call(map[string]any{"op": "subscribe", "channel": "x"}); r.Error != nil {
		t.Fatalf("connection should still work: %v", r.Error)
	}
}

func TestRPCWithoutResultData(t *testing.T) {
	ts := startServer(t, herald.Config{})
	ts.node.OnRPC("echo", func(_ context.Context, _ *herald.Session, data json.RawMessage) (any, error) {
		return data, nil // empty when the call carried no data
	})
	c := ts.dial(t)
	if r := c.Call(map[string]any{"op": "rpc", "method": "echo"}); r.Error != nil {
		t.Fatalf("empty result: %v", r.Error)
	}
}

func TestHistoryNeedsSubscribePermission(t *testing.T) {
	ts := startServer(t, herald.Config{Channels: herald.ChannelOptions{HistorySize: 10}})
	ts.node.OnSubscribe(func(_ context.Context, _ *herald.Session, e herald.SubscribeEvent) error {
		if strings.HasPrefix(e.Channel, "admin:") {
			return herald.ErrPermissionDenied
		}
		return nil
	})
	if _, err := ts.node.Publish(context.Background(), "admin:secrets", json.RawMessage(`"s3cret"`)); err != nil {
		t.Fatal(err)
	}
	c := ts.dial(t)
	r := c.Call(map[string]any{"op": "history", "channel": "admin:secrets", "limit": 10})
	if r.Error == nil || r.Error.Code != protocol.CodePermissionDenied {
		t.Fatalf("want 103, got %+v", r)
	}
	r = c.Call(map[string]any{"op": "history", "channel": "public", "limit": 10})
	if r.Error != nil {
		t.Fatalf("public history: %v", r.Error)
	}
}

func TestHistoryDisabledIsNotAvailable(t *testing.T) {
	ts := startServer(t, herald.Config{})
	c := ts.dial(t)
	r := c.Call(map[string]any{"op": "history", "channel": "x"})
	if r.Error == nil || r.Error.Code != protocol.CodeNotAvailable {
		t.Fatalf("want 108, got %+v", r)
	}
}

func TestPublicationSizeLimit(t *testing.T) {
	ts := startServer(t, herald.Config{MaxPublicationSize: 1000})
	c := ts.dial(t)
	big := strings.Repeat("a", 2000)
	r := c.Call(map[string]any{"op": "publish", "channel": "x", "data": big})
	if r.Error == nil || r.Error.Code != protocol.CodeLimitExceeded {
		t.Fatalf("want 106, got %+v", r)
	}
	if _, err := ts.node.Publish(context.Background(), "x", json.RawMessage(`"`+big+`"`)); err != herald.ErrPublicationTooLarge {
		t.Fatalf("server publish: %v", err)
	}
}

func TestPingIntervalAnnouncedRoundedUp(t *testing.T) {
	ts := startServer(t, herald.Config{PingInterval: 1500 * time.Millisecond})
	c := wstest.Dial(t, ts.url)
	if res := c.Connect(); res.Ping != 2 {
		t.Fatalf("ping %d, want 2", res.Ping)
	}
}

// A pong that waits behind a slow command handler does not count as
// missing.
func TestPongBehindSlowHandler(t *testing.T) {
	ts := startServer(t, herald.Config{PingInterval: 100 * time.Millisecond, PongTimeout: 100 * time.Millisecond})
	ts.node.OnRPC("slow", func(context.Context, *herald.Session, json.RawMessage) (any, error) {
		time.Sleep(600 * time.Millisecond)
		return "done", nil
	})
	c := ts.dial(t)
	id := c.Command(map[string]any{"op": "rpc", "method": "slow"})
	// Answer every ping at once while the RPC runs.
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		m, err := c.Next(time.Until(deadline))
		if err != nil {
			t.Fatalf("connection lost while the handler ran: %v", err)
		}
		if m.Op == "ping" {
			_ = c.SendRaw(`{"op":"pong"}`)
		}
		if m.ID == id {
			if m.Error != nil {
				t.Fatal(m.Error)
			}
			return
		}
	}
	t.Fatal("no RPC reply")
}
