package client

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/protocol"
)

// tokenLog records the tokens a server saw in connect and refresh.
type tokenLog struct {
	mu        sync.Mutex
	connects  []string
	refreshes []string
}

func (l *tokenLog) add(list *[]string, tok string) {
	l.mu.Lock()
	*list = append(*list, tok)
	l.mu.Unlock()
}

func (l *tokenLog) get() (connects, refreshes []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.connects...), append([]string(nil), l.refreshes...)
}

// expiringServer starts a node whose connections expire ttl after connect
// and after each refresh. Connect and refresh accept any token but
// "expired" (109) and "bad" (101); connect also refuses the tokens in
// refuse as expired. Without withRefresh the node has no refresh handler
// (refresh answers 108).
func expiringServer(t *testing.T, ttl time.Duration, withRefresh bool, refuse ...string) (*testServer, *tokenLog) {
	ts := startServer(t, herald.Config{RefreshAhead: ttl / 2})
	log := &tokenLog{}
	check := func(tok string) error {
		switch tok {
		case "expired":
			return herald.ErrTokenExpired
		case "bad":
			return herald.ErrUnauthorized
		}
		return nil
	}
	ts.node.OnConnect(func(_ context.Context, e *herald.ConnectEvent) (herald.ConnectReply, error) {
		connects, _ := log.get()
		log.add(&log.connects, e.Token)
		for _, r := range refuse {
			// A refused token is accepted once, then found expired.
			if e.Token == r && len(connects) > 0 {
				return herald.ConnectReply{}, herald.ErrTokenExpired
			}
		}
		if err := check(e.Token); err != nil {
			return herald.ConnectReply{}, err
		}
		return herald.ConnectReply{User: "u", ExpiresAt: time.Now().Add(ttl)}, nil
	})
	if withRefresh {
		ts.node.OnRefresh(func(_ context.Context, _ *herald.Session, e herald.RefreshEvent) (herald.RefreshReply, error) {
			log.add(&log.refreshes, e.Token)
			if err := check(e.Token); err != nil {
				return herald.RefreshReply{}, err
			}
			return herald.RefreshReply{ExpiresAt: time.Now().Add(ttl)}, nil
		})
	}
	return ts, log
}

// tokenSource is a TokenFunc that returns the listed tokens, then "tok-N"
// for its Nth call.
type tokenSource struct {
	mu    sync.Mutex
	calls int
	first []string
}

func (s *tokenSource) token(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.calls <= len(s.first) {
		return s.first[s.calls-1], nil
	}
	return "tok-" + strconv.Itoa(s.calls), nil
}

// TestRefreshKeepsConnectionPastExpiry: against a real node whose
// connections expire after 1.5 s, the client refreshes with tokens from
// TokenFunc (retrying after a 109) and stays on its first connection, its
// subscription working, for several lifetimes.
func TestRefreshKeepsConnectionPastExpiry(t *testing.T) {
	ts, log := expiringServer(t, 1500*time.Millisecond, true)
	src := &tokenSource{first: []string{"tok-1", "expired"}}
	rec := newRecorder()
	ctx := testCtx(t)
	c := connectClient(t, ts.url, rec.options(Options{TokenFunc: src.token}))
	rec.waitFor(t, "OnConnected", func() bool { return len(rec.connected) == 1 })
	if ev := read(rec, func() ConnectedEvent { return rec.connected[0] }); ev.Expires.IsZero() {
		t.Fatalf("connected event without Expires: %+v", ev)
	}
	s := subscribe(t, c, "news")
	time.Sleep(4 * time.Second) // more than two lifetimes

	if st := c.State(); st != StateConnected {
		t.Fatalf("state %v", st)
	}
	connects, refreshes := log.get()
	if len(connects) != 1 || connects[0] != "tok-1" {
		t.Fatalf("connects with %q, want one with tok-1", connects)
	}
	if len(refreshes) < 3 || refreshes[0] != "expired" || refreshes[1] != "tok-3" {
		t.Fatalf("refreshes with %q, want expired (refused), tok-3, ...", refreshes)
	}
	rec.mu.Lock()
	nConnected, errs := len(rec.connected), rec.errors
	rec.mu.Unlock()
	if nConnected != 1 {
		t.Fatalf("connected %d times, want once", nConnected)
	}
	if len(errs) == 0 || !errors.Is(errs[0], ErrTokenExpired) {
		t.Fatalf("OnError got %v, want the refused refresh (109) first", errs)
	}
	if _, err := ts.node.Publish(ctx, "news", json.RawMessage(`"still here"`)); err != nil {
		t.Fatal(err)
	}
	if p := s.nextPub(t); string(p.Data) != `"still here"` {
		t.Fatalf("got %s", p.Data)
	}
}

// TestExpiryWithoutRefreshHandlerReconnects: the server cannot refresh
// (108), so the client gives up refreshing; the server closes with 3005 at
// the expiry and the client reconnects with a fresh token from TokenFunc.
func TestExpiryWithoutRefreshHandlerReconnects(t *testing.T) {
	ts, log := expiringServer(t, time.Second, false)
	src := &tokenSource{}
	rec := newRecorder()
	connectClient(t, ts.url, rec.options(Options{TokenFunc: src.token}))
	rec.waitFor(t, "a reconnect after 3005", func() bool { return len(rec.connected) == 2 })
	if ev := read(rec, func() ConnectingEvent { return rec.connecting[1] }); ev.Code != protocol.CloseTokenExpired {
		t.Fatalf("connecting event %+v, want code 3005", ev)
	}
	if errs := read(rec, func() []error { return rec.errors }); len(errs) == 0 || !errors.Is(errs[0], ErrNotAvailable) {
		t.Fatalf("OnError got %v, want the refresh refused with 108", errs)
	}
	// tok-1 connected, tok-2 was the refused refresh, tok-3 reconnected.
	if connects, _ := log.get(); len(connects) != 2 || connects[0] != "tok-1" || connects[1] != "tok-3" {
		t.Fatalf("connects with %q, want tok-1 then a fresh token (tok-3)", connects)
	}
}

// TestExpiryWithoutTokenFunc: without TokenFunc nothing is refreshed; the
// server closes with 3005 and the client reconnects with the same token; a
// reconnect refused as expired stops the client, since retrying the same
// token cannot help.
func TestExpiryWithoutTokenFunc(t *testing.T) {
	ts, log := expiringServer(t, time.Second, true, "static")
	rec := newRecorder()
	c := connectClient(t, ts.url, rec.options(Options{Token: "static"}))
	rec.waitFor(t, "the stop", func() bool { return len(rec.disconnected) == 1 })
	ev := read(rec, func() DisconnectedEvent { return rec.disconnected[0] })
	if ev.Code != protocol.CloseTokenExpired || !errors.Is(ev.Err, ErrTokenExpired) || !strings.Contains(ev.Reason, "TokenFunc") {
		t.Fatalf("disconnected event %+v, want 3005 with the 109 refusal and a hint", ev)
	}
	if ev := read(rec, func() ConnectingEvent { return rec.connecting[1] }); ev.Code != protocol.CloseTokenExpired {
		t.Fatalf("connecting event %+v, want code 3005", ev)
	}
	if st := c.State(); st != StateDisconnected {
		t.Fatalf("state %v", st)
	}
	connects, refreshes := log.get()
	if len(connects) != 2 || len(refreshes) != 0 {
		t.Fatalf("connects %q, refreshes %q; want two connects with the static token and no refresh", connects, refreshes)
	}
}

// TestRefreshRefusedStops: a refresh token the server refuses (101) closes
// the connection with 3500, and the client stops.
func TestRefreshRefusedStops(t *testing.T) {
	ts, _ := expiringServer(t, time.Second, true)
	src := &tokenSource{first: []string{"tok-1", "bad"}}
	rec := newRecorder()
	connectClient(t, ts.url, rec.options(Options{TokenFunc: src.token}))
	rec.waitFor(t, "the stop", func() bool { return len(rec.disconnected) == 1 })
	if ev := read(rec, func() DisconnectedEvent { return rec.disconnected[0] }); ev.Code != protocol.CloseInvalidToken {
		t.Fatalf("disconnected event %+v, want 3500", ev)
	}
	if errs := read(rec, func() []error { return rec.errors }); len(errs) == 0 || !errors.Is(errs[0], ErrUnauthorized) {
		t.Fatalf("OnError got %v, want the refused refresh (101)", errs)
	}
	if n := read(rec, func() int { return len(rec.connected) }); n != 1 {
		t.Fatalf("connected %d times", n)
	}
}

// TestRefreshOnPushAndFallback, against a scripted server: the refresh push
// makes the client refresh at once, even far from the expiry; without a
// push the client refreshes on its own before the expiry; an expiry of 0
// ends refreshing.
func TestRefreshOnPushAndFallback(t *testing.T) {
	fs := startFake(t)
	defer fs.shutdown()
	src := &tokenSource{}
	c := newClient(t, fs.url, Options{TokenFunc: src.token})
	connected := make(chan error, 1)
	go func() { connected <- c.Connect(testCtx(t)) }()
	fc := fs.accept()
	cmd := fc.expect(protocol.OpConnect)
	if cmd.Token != "tok-1" {
		t.Fatalf("connect with %q", cmd.Token)
	}
	hour := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	fc.reply(cmd.ID, `{"client":"c1","node":"fake","ping":25,"expires":`+hour+`}`)
	if err := receive(t, connected, "Connect"); err != nil {
		t.Fatal(err)
	}

	// The push, an hour before the expiry.
	fc.send(`{"op":"refresh"}`)
	cmd = fc.expect(protocol.OpRefresh)
	if cmd.Token != "tok-2" {
		t.Fatalf("refresh with %q, want tok-2", cmd.Token)
	}
	// The new expiry is 2 s away, and no push comes: the client refreshes
	// before it on its own.
	exp := time.Now().Add(2 * time.Second).Unix()
	fc.reply(cmd.ID, `{"expires":`+strconv.FormatInt(exp, 10)+`}`)
	cmd = fc.expect(protocol.OpRefresh)
	if cmd.Token != "tok-3" || time.Now().Unix() >= exp {
		t.Fatalf("fallback refresh with %q at %v, want tok-3 before %v", cmd.Token, time.Now(), time.Unix(exp, 0))
	}
	fc.reply(cmd.ID, `{"expires":0}`)
	// Never expires now: the next thing the client sends is the pong.
	fc.send(`{"op":"ping"}`)
	fc.expect(protocol.OpPong)
}

// TestCloseWhileRefreshing: Close ends a refresh whose token function
// waits (the function's context ends), and leaves no goroutine behind
// (TestMain checks).
func TestCloseWhileRefreshing(t *testing.T) {
	ts, _ := expiringServer(t, time.Second, true)
	asked := make(chan struct{})
	var once sync.Once
	calls := 0
	var mu sync.Mutex
	c := newClient(t, ts.url, Options{TokenFunc: func(ctx context.Context) (string, error) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			return "tok-1", nil
		}
		once.Do(func() { close(asked) })
		<-ctx.Done()
		return "", ctx.Err()
	}})
	if err := c.Connect(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	receive(t, asked, "the refresh's token request")
	start := time.Now()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Close took %v", d)
	}
}
