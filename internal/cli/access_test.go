package cli

import (
	"testing"

	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/protocol"
)

// TestServeAccessSettings: --subscribe-access, --publish-access,
// --presence-access and --history-access decide who may act on channels:
// token needs a channel token to subscribe, none refuses every client
// (103), and user refuses anonymous clients in open mode.
func TestServeAccessSettings(t *testing.T) {
	r := startServeEnv(t, map[string]string{"HERALD_TOKEN_SECRET": testSecret},
		"--addr=127.0.0.1:0", "--shutdown-window=50ms", "--presence",
		"--subscribe-access=token", "--publish-access=none", "--presence-access=none", "--history-access=none")
	c := wstest.Dial(t, r.url())
	c.Connect(map[string]any{"token": mintWithCLI(t, "--user", "alice")})
	expectError(t, "subscribe without a channel token", c.Call(map[string]any{"op": "subscribe", "channel": "news"}), protocol.CodePermissionDenied)
	tok := mintWithCLI(t, "--channel-token", "news", "--user", "alice")
	expectOK(t, "subscribe with a channel token", c.Call(map[string]any{"op": "subscribe", "channel": "news", "token": tok}))
	expectError(t, "publish (none)", c.Call(map[string]any{"op": "publish", "channel": "news", "data": 1}), protocol.CodePermissionDenied)
	expectError(t, "presence (none)", c.Call(map[string]any{"op": "presence", "channel": "news"}), protocol.CodePermissionDenied)
	expectError(t, "history (none)", c.Call(map[string]any{"op": "history", "channel": "news"}), protocol.CodePermissionDenied)

	open := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--publish-access=user")
	anon := wstest.Dial(t, open.url())
	anon.Connect()
	expectOK(t, "anonymous subscribe (anyone, the open-mode default)", anon.Call(map[string]any{"op": "subscribe", "channel": "news"}))
	expectError(t, "anonymous publish (user)", anon.Call(map[string]any{"op": "publish", "channel": "news", "data": 1}), protocol.CodePermissionDenied)
}

// TestServeNamespaces: the config file's namespaces have their own
// history, presence and access; an access they leave out is the top-level
// one, while the other keys they leave out take their zero value; a
// channel in a namespace that is not listed is refused with 102.
func TestServeNamespaces(t *testing.T) {
	file := writeConfig(t, `publish_access: none
namespaces:
  feed: {}
  chat: {publish_access: user, history_size: 0, presence: true}
`)
	r := startServeEnv(t, map[string]string{"HERALD_TOKEN_SECRET": testSecret},
		"--addr=127.0.0.1:0", "--shutdown-window=50ms", "--config", file)
	c := wstest.Dial(t, r.url())
	c.Connect(map[string]any{"token": mintWithCLI(t, "--user", "alice")})
	expectError(t, "publish without a namespace (top level: none)", c.Call(map[string]any{"op": "publish", "channel": "plain", "data": 1}), protocol.CodePermissionDenied)
	expectError(t, "publish feed:x (inherits none)", c.Call(map[string]any{"op": "publish", "channel": "feed:x", "data": 1}), protocol.CodePermissionDenied)
	expectOK(t, "publish chat:x (user)", c.Call(map[string]any{"op": "publish", "channel": "chat:x", "data": 1}))
	expectError(t, "history chat:x (history_size 0)", c.Call(map[string]any{"op": "history", "channel": "chat:x"}), protocol.CodeNotAvailable)
	expectError(t, "history feed:x (history_size left out: 0, not the top level's 100)", c.Call(map[string]any{"op": "history", "channel": "feed:x"}), protocol.CodeNotAvailable)
	expectOK(t, "history plain (the top level's 100)", c.Call(map[string]any{"op": "history", "channel": "plain"}))
	expectOK(t, "presence chat:x (presence)", c.Call(map[string]any{"op": "presence", "channel": "chat:x"}))
	expectError(t, "presence feed:x (no presence)", c.Call(map[string]any{"op": "presence", "channel": "feed:x"}), protocol.CodeNotAvailable)
	expectError(t, "subscribe other:x (not listed)", c.Call(map[string]any{"op": "subscribe", "channel": "other:x"}), protocol.CodeUnknownChannel)
}
