package herald_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/protocol"
)

// usersByToken makes the token the user id, with presence info naming it.
func usersByToken(n *herald.Node) {
	n.OnConnect(func(_ context.Context, e *herald.ConnectEvent) (herald.ConnectReply, error) {
		return herald.ConnectReply{User: e.Token, Info: json.RawMessage(`{"name":"` + e.Token + `"}`)}, nil
	})
}

func dialAs(t *testing.T, ts *testServer, user string) (*wstest.Client, string) {
	c := wstest.Dial(t, ts.url)
	return c, c.Connect(map[string]any{"token": user}).Client
}

func presenceOf(t *testing.T, c *wstest.Client, ch string) map[string]*protocol.PresenceInfo {
	t.Helper()
	r := c.Call(map[string]any{"op": "presence", "channel": ch})
	if r.Error != nil {
		t.Fatal(r.Error)
	}
	var res protocol.PresenceResult
	if err := json.Unmarshal(r.Result, &res); err != nil {
		t.Fatal(err)
	}
	return res.Clients
}

func TestPresenceAndJoinLeave(t *testing.T) {
	ts := startServer(t, herald.Config{Channels: herald.ChannelOptions{Presence: true, JoinLeave: true}})
	usersByToken(ts.node)
	watcher, _ := dialAs(t, ts, "watcher")
	if r := subscribe(t, watcher, map[string]any{"channel": "room", "presence": true}); r.err != nil {
		t.Fatal(r.err)
	}

	// A clean join and leave.
	alice, aliceID := dialAs(t, ts, "alice")
	subscribe(t, alice, map[string]any{"channel": "room"})
	join, err := watcher.NextPush("join", 5*time.Second)
	if err != nil || join.Info.Client != aliceID || join.Info.User != "alice" || string(join.Info.Data) != `{"name":"alice"}` {
		t.Fatalf("join %+v %v", join, err)
	}
	p := presenceOf(t, watcher, "room")
	if len(p) != 2 || p[aliceID] == nil || p[aliceID].User != "alice" || string(p[aliceID].Info) != `{"name":"alice"}` {
		t.Fatalf("presence %+v", p)
	}
	alice.Call(map[string]any{"op": "unsubscribe", "channel": "room"})
	if leave, err := watcher.NextPush("leave", 5*time.Second); err != nil || leave.Info.Client != aliceID {
		t.Fatalf("leave %+v %v", leave, err)
	}

	// An abrupt one: bob's TCP connection is cut without a close frame.
	bob := wstest.DialRaw(t, ts.url)
	if err := bob.SendText(`{"id":1,"op":"connect","token":"bob"}` + "\n" + `{"id":2,"op":"subscribe","channel":"room"}`); err != nil {
		t.Fatal(err)
	}
	join, err = watcher.NextPush("join", 5*time.Second)
	if err != nil || join.Info.User != "bob" {
		t.Fatalf("join %+v %v", join, err)
	}
	bob.Conn.Close()
	if leave, err := watcher.NextPush("leave", 5*time.Second); err != nil || leave.Info.User != "bob" {
		t.Fatalf("leave after a cut connection: %+v %v", leave, err)
	}
	if p := presenceOf(t, watcher, "room"); len(p) != 1 {
		t.Fatalf("presence after leaves: %+v", p)
	}
}

// A peer that vanishes without closing its socket (no FIN, no RST) is
// removed from presence once it misses a pong.
func TestPresenceDropsSilentPeer(t *testing.T) {
	ts := startServer(t, herald.Config{Channels: herald.ChannelOptions{Presence: true}, PingInterval: 100 * time.Millisecond, PongTimeout: 100 * time.Millisecond})
	usersByToken(ts.node)
	silent := wstest.DialRaw(t, ts.url)
	if err := silent.SendText(`{"id":1,"op":"connect","token":"ghost"}` + "\n" + `{"id":2,"op":"subscribe","channel":"room"}`); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		p, err := ts.node.Presence(context.Background(), "room")
		if err != nil {
			t.Fatal(err)
		}
		if len(p) == 1 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The ghost never reads or answers pings.
	for time.Now().Before(deadline) {
		p, _ := ts.node.Presence(context.Background(), "room")
		if len(p) == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("a silent peer stayed in presence")
}

func TestPresenceDisabled(t *testing.T) {
	ts := startServer(t, herald.Config{})
	c := ts.dial(t)
	r := c.Call(map[string]any{"op": "presence", "channel": "room"})
	if r.Error == nil || r.Error.Code != protocol.CodeNotAvailable {
		t.Fatalf("%+v", r)
	}
}

func TestNamespaces(t *testing.T) {
	ts := startServer(t, herald.Config{Namespaces: map[string]herald.ChannelOptions{
		"chat": {HistorySize: 10},
		"news": {},
	}})
	c := ts.dial(t)
	if r := subscribe(t, c, map[string]any{"channel": "secret:x"}); r.err == nil || r.err.Code != protocol.CodeUnknownChannel {
		t.Fatalf("unknown namespace: %+v", r)
	}
	if r := c.Call(map[string]any{"op": "publish", "channel": "secret:x", "data": 1}); r.Error == nil || r.Error.Code != protocol.CodeUnknownChannel {
		t.Fatalf("publish to unknown namespace: %+v", r)
	}
	publishN(t, ts.node, "chat:a", 1, 3)
	if r := subscribe(t, c, map[string]any{"channel": "chat:a"}); r.err != nil || r.Offset != 3 || r.Epoch == "" {
		t.Fatalf("chat keeps history: %+v", r)
	}
	if r := subscribe(t, c, map[string]any{"channel": "news:a"}); r.err != nil || r.Epoch != "" {
		t.Fatalf("news keeps none: %+v", r)
	}
	if r := subscribe(t, c, map[string]any{"channel": "plain"}); r.err != nil {
		t.Fatalf("a channel without namespace uses the defaults: %+v", r)
	}
}

func TestIdempotentPublishFromClient(t *testing.T) {
	ts := startServer(t, herald.Config{Channels: herald.ChannelOptions{HistorySize: 10}, IdempotencyWindow: 300 * time.Millisecond})
	c := ts.dial(t)
	subscribe(t, c, map[string]any{"channel": "c"})
	pub := func(key string) protocol.PublishResult {
		r := c.Call(map[string]any{"op": "publish", "channel": "c", "data": key, "key": key})
		if r.Error != nil {
			t.Fatal(r.Error)
		}
		var res protocol.PublishResult
		_ = json.Unmarshal(r.Result, &res)
		return res
	}
	first := pub("k1")
	if again := pub("k1"); again != first {
		t.Fatalf("retry got %+v, want %+v", again, first)
	}
	time.Sleep(500 * time.Millisecond)
	if after := pub("k1"); after.Offset != first.Offset+1 {
		t.Fatalf("after the window: %+v", after)
	}
	// Exactly two publications were delivered.
	for i := 0; i < 2; i++ {
		if _, err := c.NextPush("pub", 2*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if m, err := c.NextPush("pub", 200*time.Millisecond); err == nil {
		t.Fatalf("a duplicate was delivered: %+v", m)
	}
}

func TestServerSideSubscriptionsOfUser(t *testing.T) {
	ts := startServer(t, herald.Config{PersonalChannel: "user:", PersistUserSubscriptions: true})
	usersByToken(ts.node)
	a1, _ := dialAs(t, ts, "alice")
	a2, _ := dialAs(t, ts, "alice")
	b, _ := dialAs(t, ts, "bob")
	ctx := context.Background()

	if err := ts.node.Subscribe(ctx, "alice", "news"); err != nil {
		t.Fatal(err)
	}
	for i, c := range []*wstest.Client{a1, a2} {
		if m, err := c.NextPush("sub", 5*time.Second); err != nil || m.Channel != "news" {
			t.Fatalf("connection %d: sub push %+v %v", i, m, err)
		}
	}
	publishN(t, ts.node, "news", 1, 1)
	for i, c := range []*wstest.Client{a1, a2} {
		if m, err := c.NextPush("pub", 5*time.Second); err != nil || m.Channel != "news" {
			t.Fatalf("connection %d: pub %+v %v", i, m, err)
		}
	}
	// The personal channel reaches both of alice's connections, not bob.
	if _, err := ts.node.Publish(ctx, "user:alice", json.RawMessage(`"hi alice"`)); err != nil {
		t.Fatal(err)
	}
	for i, c := range []*wstest.Client{a1, a2} {
		if m, err := c.NextPush("pub", 5*time.Second); err != nil || m.Channel != "user:alice" {
			t.Fatalf("connection %d: personal %+v %v", i, m, err)
		}
	}
	// A new connection of alice gets the subscription at connect.
	a3 := wstest.Dial(t, ts.url)
	res := a3.Connect(map[string]any{"token": "alice"})
	if res.Subs["news"] == nil || res.Subs["user:alice"] == nil {
		t.Fatalf("connect subs %+v", res.Subs)
	}

	if err := ts.node.Unsubscribe(ctx, "alice", "news"); err != nil {
		t.Fatal(err)
	}
	for i, c := range []*wstest.Client{a1, a2, a3} {
		if m, err := c.NextPush("unsub", 5*time.Second); err != nil || m.Channel != "news" || m.Code != protocol.CodeUnsubscribedByServer {
			t.Fatalf("connection %d: unsub %+v %v", i, m, err)
		}
	}
	publishN(t, ts.node, "news", 2, 2)
	if m, err := a1.NextPush("pub", 200*time.Millisecond); err == nil {
		t.Fatalf("delivered after unsubscribe: %+v", m)
	}
	if got := b.Messages(); len(got) != 0 {
		t.Fatalf("bob got %+v", got)
	}
}

func TestUserSubscriptionsWithoutPersistence(t *testing.T) {
	ts := startServer(t, herald.Config{})
	usersByToken(ts.node)
	a1, _ := dialAs(t, ts, "alice")
	if err := ts.node.Subscribe(context.Background(), "alice", "news"); err != nil {
		t.Fatal(err)
	}
	if _, err := a1.NextPush("sub", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	a2 := wstest.Dial(t, ts.url)
	if res := a2.Connect(map[string]any{"token": "alice"}); len(res.Subs) != 0 {
		t.Fatalf("a later connection got %+v without PersistUserSubscriptions", res.Subs)
	}
}

// Server-side subscriptions recover through the positions sent in connect.
func TestServerSideSubscriptionRecoversThroughConnect(t *testing.T) {
	ts := startServer(t, herald.Config{Channels: herald.ChannelOptions{HistorySize: 10}, PersonalChannel: "user:"})
	usersByToken(ts.node)
	c := wstest.Dial(t, ts.url)
	first := c.Connect(map[string]any{"token": "alice"}).Subs["user:alice"]
	c.Conn.CloseNow()
	publishN(t, ts.node, "user:alice", 1, 3)
	c = wstest.Dial(t, ts.url)
	res := c.Connect(map[string]any{"token": "alice", "subs": map[string]any{
		"user:alice": map[string]any{"offset": first.Offset, "epoch": first.Epoch},
	}}).Subs["user:alice"]
	if res == nil || !res.Recovered || len(res.Publications) != 3 || res.Publications[2].Offset != 3 {
		t.Fatalf("%+v", res)
	}
}

// Join and leave pushes go only to subscribers that asked, never about
// themselves.
func TestJoinLeaveOnlyToThoseWhoAsked(t *testing.T) {
	ts := startServer(t, herald.Config{Channels: herald.ChannelOptions{Presence: true, JoinLeave: true}})
	usersByToken(ts.node)
	asked, _ := dialAs(t, ts, "asked")
	subscribe(t, asked, map[string]any{"channel": "room", "presence": true})
	quiet, _ := dialAs(t, ts, "quiet")
	subscribe(t, quiet, map[string]any{"channel": "room"})
	if m, err := asked.NextPush("join", 5*time.Second); err != nil || m.Info.User != "quiet" {
		t.Fatalf("join %+v %v", m, err)
	}
	joiner, _ := dialAs(t, ts, "joiner")
	subscribe(t, joiner, map[string]any{"channel": "room", "presence": true})
	if m, err := asked.NextPush("join", 5*time.Second); err != nil || m.Info.User != "joiner" {
		t.Fatalf("join %+v %v", m, err)
	}
	for name, c := range map[string]*wstest.Client{"quiet": quiet, "joiner": joiner} {
		if m, err := c.NextPush("join", 200*time.Millisecond); err == nil {
			t.Fatalf("%s got %+v", name, m)
		}
	}
}
