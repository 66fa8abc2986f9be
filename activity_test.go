package herald_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/internal/wstest"
)

// TestActivityHooksInOrder checks that OnActivity hears a connection's
// connect, subscriptions and end, in order, with the user and channel.
func TestActivityHooksInOrder(t *testing.T) {
	ts := startServer(t, herald.Config{})
	var mu sync.Mutex
	var got []string
	done := make(chan struct{})
	ts.node.OnConnect(func(ctx context.Context, e *herald.ConnectEvent) (herald.ConnectReply, error) {
		return herald.ConnectReply{User: "ann", Channels: []string{"srv"}}, nil
	})
	ts.node.OnActivity(func(a herald.Activity) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, fmt.Sprintf("%d %s %s", a.Kind, a.Session.User(), a.Channel))
		if a.Kind == herald.ActivityDisconnected {
			close(done)
		}
	})
	c := ts.dial(t)
	if r := c.Call(map[string]any{"op": "subscribe", "channel": "news"}); r.Error != nil {
		t.Fatal(r.Error)
	}
	if r := c.Call(map[string]any{"op": "unsubscribe", "channel": "news"}); r.Error != nil {
		t.Fatal(r.Error)
	}
	c.Conn.Close(1000, "")
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("no ActivityDisconnected")
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"1 ann ", "3 ann srv", "3 ann news", "4 ann news", "4 ann srv", "2 ann "}
	if !slices.Equal(got, want) {
		t.Fatalf("activity:\n got %q\nwant %q", got, want)
	}
}

// TestRPCFallback checks that methods without their own handler reach the
// fallback with their name, and that OnRPC handlers win.
func TestRPCFallback(t *testing.T) {
	ts := startServer(t, herald.Config{})
	ts.node.OnRPC("own", func(context.Context, *herald.Session, json.RawMessage) (any, error) { return "own", nil })
	ts.node.OnRPCFallback(func(_ context.Context, _ *herald.Session, method string, _ json.RawMessage) (any, error) {
		if method == "nope" {
			return nil, herald.ErrMethodNotFound
		}
		return "fallback " + method, nil
	})
	c := ts.dial(t)
	for method, want := range map[string]string{"own": `{"data":"own"}`, "other": `{"data":"fallback other"}`} {
		r := c.Call(map[string]any{"op": "rpc", "method": method})
		if r.Error != nil || string(r.Result) != want {
			t.Fatalf("%s: got %s %v, want %s", method, r.Result, r.Error, want)
		}
	}
	if r := c.Call(map[string]any{"op": "rpc", "method": "nope"}); r.Error == nil || r.Error.Code != 104 {
		t.Fatalf("nope: got %+v, want 104", r.Error)
	}
}

// TestConnectDisconnectError checks that a ConnectHandler's
// DisconnectError closes the connection with its own code.
func TestConnectDisconnectError(t *testing.T) {
	ts := startServer(t, herald.Config{})
	ts.node.OnConnect(func(ctx context.Context, e *herald.ConnectEvent) (herald.ConnectReply, error) {
		return herald.ConnectReply{}, &herald.DisconnectError{Code: 4123, Reason: "banned"}
	})
	c := wstest.Dial(t, ts.url)
	c.Command(map[string]any{"op": "connect"})
	if code := c.ExpectClose(5 * time.Second); code != 4123 {
		t.Fatalf("close code %d, want 4123", code)
	}
}

// TestActivityHandlersAdd checks that a second OnActivity handler is added
// to the first, not put in its place.
func TestActivityHandlersAdd(t *testing.T) {
	ts := startServer(t, herald.Config{})
	var a, b sync.WaitGroup
	a.Add(1)
	b.Add(1)
	var onceA, onceB sync.Once
	ts.node.OnActivity(func(herald.Activity) { onceA.Do(a.Done) })
	ts.node.OnActivity(func(herald.Activity) { onceB.Do(b.Done) })
	ts.dial(t)
	a.Wait()
	b.Wait()
}
