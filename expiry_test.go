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

// expiringServer gives each connection credentials that expire after ttl;
// a refresh with token "good" extends them by a minute, "bad" is refused
// as invalid.
func expiringServer(t *testing.T, ttl time.Duration) *testServer {
	ts := startServer(t, herald.Config{RefreshAhead: ttl / 2})
	ts.node.OnConnect(func(context.Context, *herald.ConnectEvent) (herald.ConnectReply, error) {
		return herald.ConnectReply{User: "u", ExpiresAt: time.Now().Add(ttl)}, nil
	})
	ts.node.OnRefresh(func(_ context.Context, _ *herald.Session, e herald.RefreshEvent) (herald.RefreshReply, error) {
		if e.Token != "good" {
			return herald.RefreshReply{}, herald.ErrUnauthorized
		}
		return herald.RefreshReply{ExpiresAt: time.Now().Add(time.Minute)}, nil
	})
	return ts
}

func TestExpiryWithoutRefreshCloses3005(t *testing.T) {
	ts := expiringServer(t, 600*time.Millisecond)
	c := wstest.Dial(t, ts.url)
	if res := c.Connect(); res.Expires == 0 {
		t.Fatal("connect result has no expires")
	}
	if _, err := c.NextPush("refresh", 5*time.Second); err != nil {
		t.Fatalf("no refresh push: %v", err)
	}
	if code := c.ExpectClose(5 * time.Second); code != protocol.CloseTokenExpired {
		t.Fatalf("close %d, want 3005", code)
	}
}

func TestRefreshExtendsConnection(t *testing.T) {
	ts := expiringServer(t, 600*time.Millisecond)
	c := wstest.Dial(t, ts.url)
	c.Connect()
	if _, err := c.NextPush("refresh", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	r := c.Call(map[string]any{"op": "refresh", "token": "good"})
	var res protocol.RefreshResult
	if r.Error != nil || json.Unmarshal(r.Result, &res) != nil || res.Expires < time.Now().Add(30*time.Second).Unix() {
		t.Fatalf("refresh: %+v", r)
	}
	// Past the first expiry the connection still works.
	time.Sleep(800 * time.Millisecond)
	if r := c.Call(map[string]any{"op": "subscribe", "channel": "x"}); r.Error != nil {
		t.Fatal(r.Error)
	}
}

func TestRefreshWithInvalidTokenCloses3500(t *testing.T) {
	ts := expiringServer(t, time.Minute)
	c := wstest.Dial(t, ts.url)
	c.Connect()
	r := c.Call(map[string]any{"op": "refresh", "token": "bad"})
	if r.Error == nil || r.Error.Code != protocol.CodeUnauthorized {
		t.Fatalf("%+v", r)
	}
	if code := c.ExpectClose(5 * time.Second); code != protocol.CloseInvalidToken {
		t.Fatalf("close %d, want 3500", code)
	}
}

func TestRefreshWithoutHandlerIsNotAvailable(t *testing.T) {
	ts := startServer(t, herald.Config{})
	c := ts.dial(t)
	r := c.Call(map[string]any{"op": "refresh", "token": "x"})
	if r.Error == nil || r.Error.Code != protocol.CodeNotAvailable {
		t.Fatalf("%+v", r)
	}
}
