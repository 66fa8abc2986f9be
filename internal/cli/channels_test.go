package cli

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/protocol"
)

// These tests keep the promises of serve's channel settings, each through
// the serve path.

// result decodes rep's result into v, failing the test on an error.
func result(t *testing.T, what string, rep protocol.ReplyFrame, v any) {
	t.Helper()
	if rep.Error != nil {
		t.Fatalf("%s: %v", what, rep.Error)
	}
	if err := json.Unmarshal(rep.Result, v); err != nil {
		t.Fatalf("%s: result %s: %v", what, rep.Result, err)
	}
}

// publishN publishes n publications of c to channel and returns the last
// one's result.
func publishN(t *testing.T, c *wstest.Client, channel string, n int) protocol.PublishResult {
	t.Helper()
	var res protocol.PublishResult
	for i := range n {
		result(t, "publish", c.Call(map[string]any{"op": "publish", "channel": channel, "data": i}), &res)
	}
	return res
}

// TestServeHistory: --history-size is how many publications a channel
// keeps, --history-ttl how long after the last one; with history-size 0
// history answers 108.
func TestServeHistory(t *testing.T) {
	r := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--history-size=2", "--history-ttl=300ms")
	c := wstest.Dial(t, r.url())
	c.Connect()
	publishN(t, c, "ch", 3)
	var h protocol.HistoryResult
	result(t, "history", c.Call(map[string]any{"op": "history", "channel": "ch"}), &h)
	if len(h.Publications) != 2 || h.Publications[0].Offset != 2 || h.Publications[1].Offset != 3 {
		t.Fatalf("history %+v, want offsets 2 and 3", h)
	}
	time.Sleep(600 * time.Millisecond) // past the TTL
	result(t, "history after the TTL", c.Call(map[string]any{"op": "history", "channel": "ch"}), &h)
	if len(h.Publications) != 0 {
		t.Errorf("history after the TTL holds %d publications", len(h.Publications))
	}

	none := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--history-size=0")
	c = wstest.Dial(t, none.url())
	c.Connect()
	expectError(t, "history with history-size 0", c.Call(map[string]any{"op": "history", "channel": "ch"}), protocol.CodeNotAvailable)
}

// recoverMissed has a client miss missed publications on a channel of the
// server at url and resubscribe with recover, and returns the result.
func recoverMissed(t *testing.T, url string, missed int) protocol.SubscribeResult {
	t.Helper()
	pub := wstest.Dial(t, url)
	pub.Connect()
	seen := publishN(t, pub, "ch", 1)
	publishN(t, pub, "ch", missed)
	c := wstest.Dial(t, url)
	c.Connect()
	var res protocol.SubscribeResult
	result(t, "subscribe with recover", c.Call(map[string]any{"op": "subscribe", "channel": "ch",
		"recover": true, "offset": seen.Offset, "epoch": seen.Epoch}), &res)
	return res
}

// TestServeRecovery: clients recover what they missed (on by default);
// --max-recover caps one recovery; --recover=false turns it off.
func TestServeRecovery(t *testing.T) {
	r := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms")
	if res := recoverMissed(t, r.url(), 3); !res.Recovered || !res.Recoverable || len(res.Publications) != 3 {
		t.Errorf("default: %+v, want the 3 missed publications recovered", res)
	}
	capped := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--max-recover=2")
	if res := recoverMissed(t, capped.url(), 3); res.Recovered || !res.Recoverable {
		t.Errorf("--max-recover=2, 3 missed: %+v, want recovered false", res)
	}
	off := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--recover=false")
	if res := recoverMissed(t, off.url(), 1); res.Recovered || res.Recoverable {
		t.Errorf("--recover=false: %+v, want neither recoverable nor recovered", res)
	}
}

// TestServePresence: --presence keeps who is subscribed (108 without it);
// --join-leave sends a join to subscribers that asked for it.
func TestServePresence(t *testing.T) {
	r := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--presence", "--join-leave")
	a := wstest.Dial(t, r.url())
	a.Connect()
	expectOK(t, "a subscribe", a.Call(map[string]any{"op": "subscribe", "channel": "room", "presence": true}))
	b := wstest.Dial(t, r.url())
	bID := b.Connect().Client
	expectOK(t, "b subscribe", b.Call(map[string]any{"op": "subscribe", "channel": "room"}))
	join, err := a.NextPush("join", 5*time.Second)
	if err != nil || join.Info == nil || join.Info.Client != bID {
		t.Errorf("join push %+v (%v), want one for %s", join, err, bID)
	}
	var p struct {
		Clients map[string]json.RawMessage `json:"clients"`
	}
	result(t, "presence", a.Call(map[string]any{"op": "presence", "channel": "room"}), &p)
	if len(p.Clients) != 2 || p.Clients[bID] == nil {
		t.Errorf("presence %v, want both clients", p.Clients)
	}

	off := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms")
	c := wstest.Dial(t, off.url())
	c.Connect()
	expectError(t, "presence without --presence", c.Call(map[string]any{"op": "presence", "channel": "room"}), protocol.CodeNotAvailable)
}

// TestServeIdempotencyWindow: a publish repeating a key within
// --idempotency-window publishes nothing and answers the first one's
// offset; after the window the key publishes again.
func TestServeIdempotencyWindow(t *testing.T) {
	r := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--idempotency-window=300ms")
	c := wstest.Dial(t, r.url())
	c.Connect()
	publish := func() protocol.PublishResult {
		var res protocol.PublishResult
		result(t, "publish with a key", c.Call(map[string]any{"op": "publish", "channel": "ch", "data": 1, "key": "k1"}), &res)
		return res
	}
	first, again := publish(), publish()
	if again != first {
		t.Errorf("the repeated key published again: %+v, then %+v", first, again)
	}
	time.Sleep(600 * time.Millisecond) // past the window
	if later := publish(); later.Offset != first.Offset+1 {
		t.Errorf("after the window: %+v, want offset %d", later, first.Offset+1)
	}
}

// TestServePersonalChannel: with --personal-channel, each user's
// connections are subscribed to the prefix and the user at connect.
func TestServePersonalChannel(t *testing.T) {
	r := startServeEnv(t, map[string]string{"HERALD_TOKEN_SECRET": testSecret},
		"--addr=127.0.0.1:0", "--shutdown-window=50ms", "--personal-channel=user:")
	res := wstest.Dial(t, r.url()).Connect(map[string]any{"token": mintWithCLI(t, "--user", "alice")})
	if res.Subs["user:alice"] == nil {
		t.Errorf("connect result subs %v, want user:alice", res.Subs)
	}
}

// TestServePersistUserSubscriptions: with --persist-user-subscriptions,
// /api/subscribe also subscribes the user's later connections; without
// it, only those open at the time.
func TestServePersistUserSubscriptions(t *testing.T) {
	for _, persist := range []bool{false, true} {
		args := []string{"--addr=127.0.0.1:0", "--shutdown-window=50ms", "--api-key=k"}
		if persist {
			args = append(args, "--persist-user-subscriptions")
		}
		r := startServeEnv(t, map[string]string{"HERALD_TOKEN_SECRET": testSecret}, args...)
		req, _ := http.NewRequest("POST", "http://"+r.addr+"/api/subscribe", strings.NewReader(`{"user":"alice","channel":"news"}`))
		req.Header.Set("X-API-Key", "k")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		http.DefaultClient.CloseIdleConnections()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("/api/subscribe: %d", resp.StatusCode)
		}
		res := wstest.Dial(t, r.url()).Connect(map[string]any{"token": mintWithCLI(t, "--user", "alice")})
		if got := res.Subs["news"] != nil; got != persist {
			t.Errorf("--persist-user-subscriptions=%v: a later connection subscribed to news: %v", persist, got)
		}
	}
}
