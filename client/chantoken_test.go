package client

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

const testSecret = "a test secret that is at least 32 bytes long"

// startTokenServer runs a node whose namespace "vip" lets only connections
// with a channel token subscribe, and keeps history and presence.
func startTokenServer(t *testing.T) *testServer {
	t.Helper()
	v, err := auth.NewVerifier(auth.Config{HMACSecret: []byte(testSecret)})
	if err != nil {
		t.Fatal(err)
	}
	open := herald.Permissions{Subscribe: herald.AccessToken, History: herald.AccessToken, Presence: herald.AccessToken}
	return startServer(t, herald.Config{
		ChannelTokenVerifier: v.ChannelTokenVerifier(),
		Namespaces: map[string]herald.ChannelOptions{
			"vip": {HistorySize: 10, Presence: true, Permissions: open},
		},
	})
}

func mintChannelToken(t testing.TB, channel string, ttl time.Duration) string {
	t.Helper()
	tok, err := auth.Mint([]byte(testSecret), "HS256", auth.Claims{Channel: channel, Expires: time.Now().Add(ttl)})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestChannelToken: a subscription without a channel token is refused with
// 103; one with a token subscribes and reads history and presence through
// it.
func TestChannelToken(t *testing.T) {
	ts := startTokenServer(t)
	c := connectClient(t, ts.url, Options{})
	ctx := testCtx(t)
	if _, err := c.Subscribe(ctx, "vip:a", SubscriptionHandlers{}); !errors.Is(err, ErrPermissionDenied) {
		t.Fatalf("subscribe without a token: %v, want ErrPermissionDenied", err)
	}
	sub, err := c.Subscribe(ctx, "vip:a", SubscriptionHandlers{}, WithChannelToken(mintChannelToken(t, "vip:a", time.Hour)))
	if err != nil {
		t.Fatalf("subscribe with a token: %v", err)
	}
	if _, err := c.Publish(ctx, "vip:a", "hi"); err != nil {
		t.Fatal(err)
	}
	h, err := sub.History(ctx, HistoryOptions{})
	if err != nil || len(h.Publications) != 1 || string(h.Publications[0].Data) != `"hi"` {
		t.Fatalf("history: %+v, %v", h, err)
	}
	p, err := sub.Presence(ctx)
	if err != nil || len(p.Clients) != 1 {
		t.Fatalf("presence: %+v, %v", p, err)
	}
	// A token for another channel does not open this one.
	if _, err := c.Subscribe(ctx, "vip:b", SubscriptionHandlers{}, WithChannelToken(mintChannelToken(t, "vip:a", time.Hour))); !errors.Is(err, ErrPermissionDenied) {
		t.Fatalf("subscribe with another channel's token: %v, want ErrPermissionDenied", err)
	}
}

// TestChannelTokenRenewed: a subscription whose channel token expires gets
// a new one from its token func before the expiry, and renews itself with
// it after a reconnect, recovering what it missed, without an error.
func TestChannelTokenRenewed(t *testing.T) {
	ts := startTokenServer(t)
	var mu sync.Mutex
	var tokens []string
	tokenFunc := func(_ context.Context, channel string) (string, error) {
		tok := mintChannelToken(t, channel, 2*time.Second)
		mu.Lock()
		tokens = append(tokens, tok)
		mu.Unlock()
		return tok, nil
	}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(tokens)
	}
	errs := make(chan error, 8)
	ids := make(chan string, 4)
	c := connectClient(t, ts.url, Options{
		OnError:     func(err error) { errs <- err },
		OnConnected: func(e ConnectedEvent) { ids <- e.Client },
	})
	id := receive(t, ids, "connected")
	rec := newSubRecorder()
	ctx := testCtx(t)
	if _, err := c.Subscribe(ctx, "vip:a", rec.handlers(), WithChannelTokenFunc(tokenFunc)); err != nil {
		t.Fatal(err)
	}
	rec.nextSubscribed(t)
	if n := count(); n != 1 {
		t.Fatalf("token func called %d times at subscribe, want 1", n)
	}
	// The first token expires 2 s after it was made (exp is in whole
	// seconds): the next one is asked for before, and the first is dead
	// by the time the connection drops.
	deadline := time.Now().Add(5 * time.Second)
	for count() < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if count() < 2 {
		t.Fatal("the token func was not called again before the token expired")
	}
	mu.Lock()
	first := tokens[0]
	mu.Unlock()
	time.Sleep(time.Until(tokenExpiry(first)) + 100*time.Millisecond)

	pub := connectClient(t, ts.url, Options{})
	if err := ts.node.Disconnect(ctx, "", id, 3004, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := pub.Subscribe(ctx, "vip:a", SubscriptionHandlers{}, WithChannelToken(mintChannelToken(t, "vip:a", time.Minute))); err != nil {
		t.Fatal(err)
	}
	if _, err := pub.Publish(ctx, "vip:a", "while away"); err != nil {
		t.Fatal(err)
	}
	ev := rec.nextSubscribed(t)
	if !ev.Resubscribed {
		t.Fatalf("second OnSubscribed: %+v, want a resubscribe", ev)
	}
	if p := rec.nextPub(t); string(p.Data) != `"while away"` {
		t.Fatalf("publication %s", p.Data)
	}
	select {
	case err := <-errs:
		t.Fatalf("OnError: %v (the renewal should go unnoticed)", err)
	default:
	}
}
