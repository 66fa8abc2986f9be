package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/internal/browsertest"
)

// TestSDKInChromium runs web/e2e/sdk.e2e.mjs: the browser SDK (/herald.js)
// against a real node (commands, errors, ping/pong, reconnect codes, tokens,
// token refresh, resubscribe with recovery) and against two scripted fake
// servers (one that goes silent, one that batches duplicate publications).
func TestSDKInChromium(t *testing.T) {
	dir := e2eDir(t)

	// The fake servers' handlers run until their clients go; Cleanup
	// cancels them and waits, so that none outlives the test.
	fakeCtx, stopFakes := context.WithCancel(context.Background())
	var fakes sync.WaitGroup
	t.Cleanup(func() {
		stopFakes()
		fakes.Wait()
	})
	fake := func(script func(ctx context.Context, c *fakeConn) error) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			fakes.Add(1)
			defer fakes.Done()
			// Offered herald.json (the SDK offers it with herald.protobuf),
			// a fake server speaks JSON as a real one would choose to.
			ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"herald.json"}})
			if err != nil {
				return
			}
			defer ws.CloseNow()
			ctx, cancel := context.WithTimeout(fakeCtx, 20*time.Second)
			defer cancel()
			if err := script(ctx, &fakeConn{ws: ws}); err != nil && ctx.Err() == nil {
				t.Logf("fake server %s: %v", r.URL.Path, err)
			}
		}
	}

	cfg := herald.Config{
		ShutdownWindow: 50 * time.Millisecond,
		Channels:       herald.ChannelOptions{HistorySize: 100}, PingInterval: time.Second,
		PongTimeout:  time.Second,
		RefreshAhead: time.Second,
	}
	// Tokens "short-N" expire 2 s after connect and after each refresh.
	const shortTTL = 2 * time.Second
	url := startServer(t, cfg, func(node *herald.Node, mux *http.ServeMux) {
		node.OnConnect(func(_ context.Context, e *herald.ConnectEvent) (herald.ConnectReply, error) {
			switch e.Token {
			case "bad":
				return herald.ConnectReply{}, herald.ErrUnauthorized
			case "expired":
				return herald.ConnectReply{}, herald.ErrTokenExpired
			case "":
				return herald.ConnectReply{}, nil
			}
			if strings.HasPrefix(e.Token, "short-") {
				return herald.ConnectReply{User: "u-short", ExpiresAt: time.Now().Add(shortTTL)}, nil
			}
			return herald.ConnectReply{User: "u-" + e.Token}, nil
		})
		node.OnRefresh(func(_ context.Context, s *herald.Session, e herald.RefreshEvent) (herald.RefreshReply, error) {
			if !strings.HasPrefix(e.Token, "short-") || s.User() != "u-short" {
				return herald.RefreshReply{}, herald.ErrUnauthorized
			}
			return herald.RefreshReply{ExpiresAt: time.Now().Add(shortTTL)}, nil
		})
		node.OnSubscribe(func(_ context.Context, _ *herald.Session, e herald.SubscribeEvent) error {
			if strings.HasPrefix(e.Channel, "secret:") {
				return herald.ErrPermissionDenied
			}
			return nil
		})
		node.OnRPC("echo", func(_ context.Context, _ *herald.Session, data json.RawMessage) (any, error) {
			return data, nil
		})
		node.OnRPC("fail", func(context.Context, *herald.Session, json.RawMessage) (any, error) {
			return nil, herald.NewError(1001, "app says no")
		})
		node.OnMessage(func(_ context.Context, s *herald.Session, data json.RawMessage) {
			_ = s.Send(json.RawMessage(`{"echo":` + string(data) + `}`))
		})

		mux.HandleFunc("/_e2e/blank", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, "<!doctype html><title>herald.js checks</title>")
		})
		// Answers connect with a 1 s ping interval, then never sends again.
		mux.Handle("/_e2e/silent", fake(func(ctx context.Context, c *fakeConn) error {
			id, err := c.expect(ctx, "connect")
			if err != nil {
				return err
			}
			if err := c.send(ctx, fmt.Sprintf(`{"id":%d,"result":{"client":"silent","node":"fake","user":"","ping":1,"expires":0}}`, id)); err != nil {
				return err
			}
			for {
				if _, _, err := c.ws.Read(ctx); err != nil {
					return nil // the client gave up on us, as it should
				}
			}
		}))
		// Answers connect and subscribe, then sends one frame of several
		// messages: the subscribe reply at offset 5, publications 5
		// (already seen), 6, 6 again and 7, and a ping. Once the pong
		// arrives it sends a message, then a do-not-reconnect disconnect.
		mux.Handle("/_e2e/scripted", fake(func(ctx context.Context, c *fakeConn) error {
			id, err := c.expect(ctx, "connect")
			if err != nil {
				return err
			}
			if err := c.send(ctx, fmt.Sprintf(`{"id":%d,"result":{"client":"scripted","node":"fake","user":"","ping":0,"expires":0}}`, id)); err != nil {
				return err
			}
			if id, err = c.expect(ctx, "subscribe"); err != nil {
				return err
			}
			frame := strings.Join([]string{
				fmt.Sprintf(`{"id":%d,"result":{"offset":5,"epoch":"e1","recoverable":true}}`, id),
				`{"op":"pub","channel":"news","offset":5,"data":"a"}`,
				`{"op":"pub","channel":"news","offset":6,"data":"b"}`,
				`{"op":"pub","channel":"news","offset":6,"data":"b"}`,
				`{"op":"pub","channel":"news","offset":7,"data":"c"}`,
				`{"op":"ping"}`,
			}, "\n")
			if err := c.send(ctx, frame); err != nil {
				return err
			}
			if _, err := c.expect(ctx, "pong"); err != nil {
				return err
			}
			if err := c.send(ctx, `{"op":"message","data":"pong received"}`+"\n"+
				`{"op":"disconnect","code":3503,"reason":"forbidden","reconnect":false}`); err != nil {
				return err
			}
			return c.ws.Close(3503, "forbidden")
		}))
	})
	runNode(t, dir, "sdk.e2e.mjs", url)
}

// fakeConn is one connection of a scripted fake server.
type fakeConn struct {
	ws      *websocket.Conn
	pending [][]byte // messages read but not yet expected
}

func (c *fakeConn) send(ctx context.Context, frame string) error {
	return c.ws.Write(ctx, websocket.MessageText, []byte(frame))
}

// expect reads messages (splitting batched frames) until one with op, and
// returns its id.
func (c *fakeConn) expect(ctx context.Context, op string) (uint64, error) {
	for {
		for len(c.pending) > 0 {
			msg := c.pending[0]
			c.pending = c.pending[1:]
			var m struct {
				ID uint64 `json:"id"`
				Op string `json:"op"`
			}
			if err := json.Unmarshal(msg, &m); err != nil {
				return 0, fmt.Errorf("bad message %q: %w", msg, err)
			}
			if m.Op == op {
				return m.ID, nil
			}
		}
		_, frame, err := c.ws.Read(ctx)
		if err != nil {
			return 0, fmt.Errorf("waiting for %s: %w", op, err)
		}
		for _, line := range bytes.Split(frame, []byte("\n")) {
			if len(bytes.TrimSpace(line)) > 0 {
				c.pending = append(c.pending, line)
			}
		}
	}
}

// TestSDKChannelsInChromium runs web/e2e/sdk-channels.e2e.mjs: the checks
// of channels.checks.mjs (history, presence, channel tokens and their
// renewal, sub.ready, binary data) with /herald.js in Chromium. The same
// checks run under Node.js with the packed npm package (js.TestPackedSDKInNode).
func TestSDKChannelsInChromium(t *testing.T) {
	dir := e2eDir(t)
	runNode(t, dir, "sdk-channels.e2e.mjs", browsertest.StartChannelsServer(t))
}

// TestSDKBinaryInChromium runs web/e2e/sdk-binary.e2e.mjs: a PNG painted on
// a canvas goes as bytes from one page to two others, one speaking
// Protobuf over a WebSocket and one whose WebSocket constructor is removed
// (HTTP-streaming, JSON: base64 with "binary":true), and back from the
// latter; each shows the bytes it got as an image, and history returns
// them too.
func TestSDKBinaryInChromium(t *testing.T) {
	dir := e2eDir(t)
	url := startServer(t, herald.Config{
		ShutdownWindow: 50 * time.Millisecond,
		Channels:       herald.ChannelOptions{HistorySize: 10},
	}, func(_ *herald.Node, mux *http.ServeMux) {
		mux.HandleFunc("/_e2e/blank", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, "<!doctype html><title>herald.js binary payloads</title>")
		})
	})
	runNode(t, dir, "sdk-binary.e2e.mjs", url)
}
