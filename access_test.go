package herald_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/protocol"
)

func permissionServer(t *testing.T) *testServer {
	ts := startServer(t, herald.Config{
		Channels: herald.ChannelOptions{HistorySize: 10, Presence: true},
		Namespaces: map[string]herald.ChannelOptions{
			"private":  {HistorySize: 10, Presence: true, Permissions: herald.Permissions{Subscribe: herald.AccessToken, Publish: herald.AccessToken, Presence: herald.AccessToken, History: herald.AccessToken}},
			"members":  {Permissions: herald.Permissions{Subscribe: herald.AccessUser, Publish: herald.AccessUser}},
			"readonly": {Permissions: herald.Permissions{Publish: herald.AccessNone}},
			"dm":       {},
		},
		ChannelTokenVerifier: func(_ context.Context, token, _, channel string) error {
			if token != "tok:"+channel {
				return errors.New("bad channel token")
			}
			return nil
		},
	})
	usersByToken(ts.node)
	return ts
}

func wantCode(t *testing.T, r protocol.ReplyFrame, code int, what string) {
	t.Helper()
	got := 0
	if r.Error != nil {
		got = r.Error.Code
	}
	if got != code {
		t.Fatalf("%s: got %+v, want code %d", what, r, code)
	}
}

// callOp sends op on channel ch with extra key/value pairs (publish gets
// data 1) and returns the reply.
func callOp(c *wstest.Client, op, ch string, extra ...any) protocol.ReplyFrame {
	cmd := map[string]any{"op": op, "channel": ch}
	for i := 0; i+1 < len(extra); i += 2 {
		cmd[extra[i].(string)] = extra[i+1]
	}
	if op == "publish" {
		cmd["data"] = 1
	}
	return c.Call(cmd)
}

func TestNamespacePermissions(t *testing.T) {
	ts := permissionServer(t)
	anon := ts.dial(t)
	alice, _ := dialAs(t, ts, "alice")
	carol, _ := dialAs(t, ts, "carol")
	call := callOp

	// Token channels: no token, a token for another channel, then the right one.
	wantCode(t, call(anon, "subscribe", "private:x"), 103, "no channel token")
	wantCode(t, call(anon, "subscribe", "private:x", "token", "tok:private:y"), 103, "token of another channel")
	wantCode(t, call(anon, "publish", "private:x"), 103, "publish without a token subscription")
	wantCode(t, call(anon, "history", "private:x"), 103, "history without a token subscription")
	wantCode(t, call(anon, "subscribe", "private:x", "token", "tok:private:x"), 0, "right token")
	wantCode(t, call(anon, "publish", "private:x"), 0, "publish through a token subscription")
	wantCode(t, call(anon, "presence", "private:x"), 0, "presence through a token subscription")
	wantCode(t, call(anon, "history", "private:x"), 0, "history through a token subscription")
	// A denial says nothing about whether the channel exists.
	r1, r2 := call(alice, "subscribe", "private:x"), call(alice, "subscribe", "private:never-used")
	if r1.Error == nil || r2.Error == nil || r1.Error.Message != r2.Error.Message {
		t.Fatalf("denials differ: %+v / %+v", r1.Error, r2.Error)
	}

	// Authenticated-only channels.
	wantCode(t, call(anon, "subscribe", "members:x"), 103, "anonymous in members")
	wantCode(t, call(alice, "subscribe", "members:x"), 0, "user in members")
	wantCode(t, call(anon, "publish", "members:x"), 103, "anonymous publish in members")

	// Server-only publishing.
	wantCode(t, call(alice, "subscribe", "readonly:news"), 0, "subscribe to readonly")
	wantCode(t, call(alice, "publish", "readonly:news"), 103, "client publish to readonly")
	if _, err := ts.node.Publish(context.Background(), "readonly:news", json.RawMessage(`1`)); err != nil {
		t.Fatalf("the server may publish: %v", err)
	}

	// User-limited channels.
	wantCode(t, call(alice, "subscribe", "dm:#alice,bob"), 0, "alice in her dm")
	wantCode(t, call(carol, "subscribe", "dm:#alice,bob"), 103, "carol in alice's dm")
	wantCode(t, call(anon, "subscribe", "dm:#alice,bob"), 103, "anonymous in a dm")
	wantCode(t, call(carol, "publish", "dm:#alice,bob"), 103, "carol publishing to alice's dm")
}

func TestHandlersOverridePermissions(t *testing.T) {
	ts := permissionServer(t)
	ts.node.OnSubscribe(func(context.Context, *herald.Session, herald.SubscribeEvent) error { return nil })
	ts.node.OnPublish(func(context.Context, *herald.Session, *herald.PublishEvent) error { return nil })
	c := ts.dial(t)
	if r := c.Call(map[string]any{"op": "subscribe", "channel": "private:x"}); r.Error != nil {
		t.Fatalf("the handler allows: %+v", r.Error)
	}
	if r := c.Call(map[string]any{"op": "publish", "channel": "readonly:x", "data": 1}); r.Error != nil {
		t.Fatalf("the handler allows: %+v", r.Error)
	}
}

// TestPrivateChannelPrefix: a channel starting with PrivateChannelPrefix
// needs a channel token even when handlers allow everything: the rule runs
// before them.
func TestPrivateChannelPrefix(t *testing.T) {
	ts := startServer(t, herald.Config{
		Channels:             herald.ChannelOptions{HistorySize: 10, Presence: true},
		PrivateChannelPrefix: "$",
		ChannelTokenVerifier: func(_ context.Context, token, _, channel string) error {
			if token != "tok:"+channel {
				return errors.New("bad channel token")
			}
			return nil
		},
	})
	allow := func(context.Context, *herald.Session, herald.SubscribeEvent) error { return nil }
	ts.node.OnSubscribe(allow)
	ts.node.OnPublish(func(context.Context, *herald.Session, *herald.PublishEvent) error { return nil })
	c := ts.dial(t)
	call := func(op, ch string, extra ...any) protocol.ReplyFrame { return callOp(c, op, ch, extra...) }
	wantCode(t, call("subscribe", "$inbox"), 103, "subscribe without a token")
	wantCode(t, call("subscribe", "$inbox", "token", "tok:$other"), 103, "subscribe with another channel's token")
	wantCode(t, call("publish", "$inbox"), 103, "publish without a token subscription")
	wantCode(t, call("presence", "$inbox"), 103, "presence without a token subscription")
	wantCode(t, call("history", "$inbox"), 103, "history without a token subscription")
	wantCode(t, call("subscribe", "$inbox", "token", "tok:$inbox"), 0, "subscribe with the token")
	wantCode(t, call("publish", "$inbox"), 0, "publish through the token subscription")
	wantCode(t, call("history", "$inbox"), 0, "history through the token subscription")
	wantCode(t, call("publish", "open"), 0, "a channel without the prefix")
}
