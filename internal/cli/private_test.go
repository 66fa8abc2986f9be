package cli

import (
	"net"
	"testing"

	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/protocol"
)

// TestServePrivateChannels keeps the promise of `herald serve --help`: with
// a token key, a channel whose name starts with $ needs a channel token to
// subscribe, and the subscription to publish, read presence and history.
// A user without the token (mallory) gets 103 for each; one with a token
// for the channel (alice) succeeds; a token for another channel, or for
// another user, does not open it.
func TestServePrivateChannels(t *testing.T) {
	r := startServeEnv(t, map[string]string{"HERALD_TOKEN_SECRET": testSecret},
		"--addr=127.0.0.1:0", "--shutdown-window=50ms", "--presence")
	_, port, _ := net.SplitHostPort(r.addr)
	url := "ws://127.0.0.1:" + port + "/ws"
	const inbox = "$alice-inbox"

	mallory := wstest.Dial(t, url)
	mallory.Connect(map[string]any{"token": mintWithCLI(t, "--user", "mallory")})
	denied := func(what string, rep protocol.ReplyFrame) {
		t.Helper()
		if rep.Error == nil || rep.Error.Code != protocol.CodePermissionDenied {
			t.Errorf("mallory %s: %+v, want error 103", what, rep)
		}
	}
	denied("subscribe without a token", mallory.Call(map[string]any{"op": "subscribe", "channel": inbox}))
	aliceTok := mintWithCLI(t, "--channel-token", inbox, "--user", "alice")
	denied("subscribe with alice's channel token", mallory.Call(map[string]any{"op": "subscribe", "channel": inbox, "token": aliceTok}))
	otherTok := mintWithCLI(t, "--channel-token", "$mallory-inbox", "--user", "mallory")
	denied("subscribe with a token for another channel", mallory.Call(map[string]any{"op": "subscribe", "channel": inbox, "token": otherTok}))
	denied("publish", mallory.Call(map[string]any{"op": "publish", "channel": inbox, "data": "hi"}))
	denied("presence", mallory.Call(map[string]any{"op": "presence", "channel": inbox}))
	denied("history", mallory.Call(map[string]any{"op": "history", "channel": inbox, "limit": 10}))

	alice := wstest.Dial(t, url)
	alice.Connect(map[string]any{"token": mintWithCLI(t, "--user", "alice")})
	if rep := alice.Call(map[string]any{"op": "subscribe", "channel": inbox, "token": aliceTok}); rep.Error != nil {
		t.Fatalf("alice subscribe with her channel token: %v", rep.Error)
	}
	for _, cmd := range []map[string]any{
		{"op": "publish", "channel": inbox, "data": "hi"},
		{"op": "presence", "channel": inbox},
		{"op": "history", "channel": inbox, "limit": 10},
	} {
		if rep := alice.Call(cmd); rep.Error != nil {
			t.Errorf("alice %s: %v", cmd["op"], rep.Error)
		}
	}
	// Channels without the prefix stay open to every user.
	if rep := mallory.Call(map[string]any{"op": "publish", "channel": "lobby", "data": "hi"}); rep.Error != nil {
		t.Errorf("mallory publish to lobby: %v", rep.Error)
	}
}
