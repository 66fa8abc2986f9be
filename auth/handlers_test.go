package auth_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/protocol"
)

// startNode runs a Node with the auth handlers on a real HTTP server and
// returns its WebSocket URL.
func startNode(t *testing.T, v *auth.Verifier) string {
	t.Helper()
	node, err := herald.New(herald.Config{ShutdownWindow: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	node.OnConnect(auth.ConnectHandler(v))
	node.OnSubscribe(auth.SubscribeHandler(v, "$"))
	node.OnPublish(auth.PublishHandler("$"))
	hs := httptest.NewServer(node.Handler())
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = node.Shutdown(ctx)
	})
	return wstest.WSURL(hs.URL, "/")
}

func TestConnectHandlerEmptyToken(t *testing.T) {
	h := auth.ConnectHandler(newVerifier(t, auth.Config{HMACSecret: secret}))
	_, err := h(ctx, &herald.ConnectEvent{})
	if !errors.Is(err, herald.ErrUnauthorized) || !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("got %v, want ErrUnauthorized", err)
	}
	rep, err := h(ctx, &herald.ConnectEvent{Token: hs256(t, with(claims(), jwt.MapClaims{
		"info": map[string]any{"name": "Alice"}, "channels": []string{"news"},
	}))})
	if err != nil || rep.User != "alice" || string(rep.Info) != `{"name":"Alice"}` || len(rep.Channels) != 1 {
		t.Fatalf("reply %+v, %v", rep, err)
	}
}

// TestHandlersOnANode: connect needs a token (101 and close 3500 without,
// 109 and 3005 when expired); ordinary channels are open to the user; a
// private ($) channel needs a channel token for that channel and user, and
// takes publications only from its subscribers.
func TestHandlersOnANode(t *testing.T) {
	v := newVerifier(t, auth.Config{HMACSecret: secret, Now: time.Now})
	url := startNode(t, v)
	exp := time.Now().Add(time.Hour).Unix()

	for _, tc := range []struct {
		name      string
		token     string
		code      int
		closeCode int
	}{
		{"no token", "", protocol.CodeUnauthorized, protocol.CloseInvalidToken},
		{"bad token", "nonsense", protocol.CodeUnauthorized, protocol.CloseInvalidToken},
		{"expired", hs256(t, jwt.MapClaims{"sub": "alice", "exp": time.Now().Add(-time.Hour).Unix()}), protocol.CodeTokenExpired, protocol.CloseTokenExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := wstest.Dial(t, url)
			r := c.Call(map[string]any{"op": "connect", "token": tc.token})
			if r.Error == nil || r.Error.Code != tc.code {
				t.Fatalf("reply %+v, want error %d", r, tc.code)
			}
			if code := c.ExpectClose(5 * time.Second); code != tc.closeCode {
				t.Fatalf("close %d, want %d", code, tc.closeCode)
			}
		})
	}

	c := wstest.Dial(t, url)
	res := c.Connect(map[string]any{"token": hs256(t, jwt.MapClaims{"sub": "alice", "exp": exp, "channels": []string{"$inbox"}})})
	if res.User != "alice" || res.Subs["$inbox"] == nil {
		t.Fatalf("connect result %+v, want user alice subscribed to $inbox", res)
	}
	call := func(cmd map[string]any) *protocol.Error { return c.Call(cmd).Error }
	if err := call(map[string]any{"op": "subscribe", "channel": "news"}); err != nil {
		t.Fatalf("subscribe to an open channel: %v", err)
	}
	chTok := func(channel, user string) string {
		return hs256(t, jwt.MapClaims{"sub": user, "channel": channel, "exp": exp})
	}
	for _, tc := range []struct {
		name  string
		token string
		code  int
	}{
		{"no channel token", "", protocol.CodePermissionDenied},
		{"token for another channel", chTok("$other", "alice"), protocol.CodeUnauthorized},
		{"token for another user", chTok("$room", "bob"), protocol.CodeUnauthorized},
		{"connection token", hs256(t, jwt.MapClaims{"sub": "alice", "exp": exp}), protocol.CodeUnauthorized},
	} {
		if err := call(map[string]any{"op": "subscribe", "channel": "$room", "token": tc.token}); err == nil || err.Code != tc.code {
			t.Errorf("%s: got %v, want error %d", tc.name, err, tc.code)
		}
	}
	if err := call(map[string]any{"op": "publish", "channel": "$room", "data": 1}); err == nil || err.Code != protocol.CodePermissionDenied {
		t.Errorf("publish to an unsubscribed private channel: %v, want 103", err)
	}
	if err := call(map[string]any{"op": "subscribe", "channel": "$room", "token": chTok("$room", "alice")}); err != nil {
		t.Fatalf("subscribe with a channel token: %v", err)
	}
	for _, ch := range []string{"$room", "$inbox", "news"} {
		if err := call(map[string]any{"op": "publish", "channel": ch, "data": 1}); err != nil {
			t.Errorf("publish to %s: %v", ch, err)
		}
	}
}
