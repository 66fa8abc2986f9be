package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/protocol"
)

// connectAs connects a client with o and returns it with the event of its
// first connection.
func connectAs(t *testing.T, url string, o Options) (*Client, ConnectedEvent) {
	t.Helper()
	connected := make(chan ConnectedEvent, 1)
	o.OnConnected = func(e ConnectedEvent) {
		select {
		case connected <- e:
		default:
		}
	}
	c := connectClient(t, url, o)
	return c, receive(t, connected, "connected event")
}

// wantPub fails unless p is the publication of data (binary or JSON) by
// the client named from.
func wantPub(t *testing.T, p Publication, binary bool, data []byte, from string) {
	t.Helper()
	if p.Binary != binary || !bytes.Equal(p.Data, data) {
		t.Fatalf("publication = {Binary:%v Data:%q}, want {Binary:%v Data:%q}", p.Binary, p.Data, binary, data)
	}
	if from != "" && (p.Info == nil || p.Info.Client != from) {
		t.Fatalf("publication from %+v, want client %s", p.Info, from)
	}
}

// A Herald node accepts the binary encoding: the default client speaks it,
// EncodingJSON keeps JSON, EncodingProtobuf gets what it insists on.
func TestClientNegotiatesEncoding(t *testing.T) {
	ts := startServer(t, herald.Config{})
	for _, tc := range []struct{ opt, want Encoding }{
		{EncodingAuto, EncodingProtobuf},
		{EncodingJSON, EncodingJSON},
		{EncodingProtobuf, EncodingProtobuf},
	} {
		c, ev := connectAs(t, ts.url, Options{Encoding: tc.opt})
		if ev.Encoding != tc.want || ev.Transport != TransportWebSocket {
			t.Errorf("Options.Encoding %q: connected with %q over %q, want %q", tc.opt, ev.Encoding, ev.Transport, tc.want)
		}
		// Commands and pushes work in it.
		s := subscribe(t, c, "room")
		s.nextSubscribed(t)
		if _, err := c.Publish(testCtx(t), "room", map[string]int{"n": 1}); err != nil {
			t.Fatal(err)
		}
		wantPub(t, s.nextPub(t), false, []byte(`{"n":1}`), ev.Client)
		_ = c.Close()
	}
}

// Bytes published on either encoding reach subscribers of both as the
// same bytes, flagged binary; JSON stays JSON on the binary encoding; zero
// bytes are a publication too.
func TestBinaryPublicationsAcrossEncodings(t *testing.T) {
	ts := startServer(t, herald.Config{})
	ctx := testCtx(t)
	pb, pbEv := connectAs(t, ts.url, Options{})
	js, jsEv := connectAs(t, ts.url, Options{Encoding: EncodingJSON})
	if pbEv.Encoding != EncodingProtobuf || jsEv.Encoding != EncodingJSON {
		t.Fatalf("encodings %q and %q", pbEv.Encoding, jsEv.Encoding)
	}
	pbSub, jsSub := subscribe(t, pb, "files"), subscribe(t, js, "files")
	pbSub.nextSubscribed(t)
	jsSub.nextSubscribed(t)

	image := []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0x00, 0xff}
	for _, tc := range []struct {
		from *Client
		id   string
		data []byte
	}{
		{pb, pbEv.Client, image},
		{js, jsEv.Client, []byte(`{"not":"JSON to the server"}`)},
		{pb, pbEv.Client, nil},
		{js, jsEv.Client, []byte{}},
	} {
		if _, err := tc.from.PublishBytes(ctx, "files", tc.data); err != nil {
			t.Fatal(err)
		}
		wantPub(t, pbSub.nextPub(t), true, tc.data, tc.id)
		wantPub(t, jsSub.nextPub(t), true, tc.data, tc.id)
	}
	if _, err := js.Publish(ctx, "files", map[string]string{"text": "hi"}); err != nil {
		t.Fatal(err)
	}
	wantPub(t, pbSub.nextPub(t), false, []byte(`{"text":"hi"}`), jsEv.Client)
	wantPub(t, jsSub.nextPub(t), false, []byte(`{"text":"hi"}`), jsEv.Client)
}

// On the binary encoding, publications missed while disconnected are
// recovered with their bytes, binary and JSON ones apart, and history
// returns them so.
func TestBinaryRecoveryAndHistoryOnProtobuf(t *testing.T) {
	ts := startServer(t, herald.Config{Channels: herald.ChannelOptions{HistorySize: 16}})
	ctx := testCtx(t)
	// The second token request holds the reconnect back until the test has
	// published what the subscriber is to miss.
	gate, asked := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	connected := make(chan ConnectedEvent, 4)
	c := newClient(t, ts.url, Options{
		OnConnected: func(e ConnectedEvent) { connected <- e },
		TokenFunc: func(ctx context.Context) (string, error) {
			if calls.Add(1) == 2 {
				close(asked)
				select {
				case <-gate:
				case <-ctx.Done():
					return "", ctx.Err()
				}
			}
			return "", nil
		},
	})
	if err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	first := receive(t, connected, "connected event")
	publisher, pubEv := connectAs(t, ts.url, Options{})
	if first.Encoding != EncodingProtobuf || pubEv.Encoding != EncodingProtobuf {
		t.Fatalf("encodings %q and %q", first.Encoding, pubEv.Encoding)
	}
	s := subscribe(t, c, "files")
	s.nextSubscribed(t)

	a, b, d := []byte{0, 1, 2, 0xff}, []byte("\xc3\x28 not UTF-8"), []byte{}
	jsonC := []byte(`{"text":"c"}`)
	publishBytes := func(data []byte) {
		t.Helper()
		if _, err := publisher.PublishBytes(ctx, "files", data); err != nil {
			t.Fatal(err)
		}
	}
	publishBytes(a)
	wantPub(t, s.nextPub(t), true, a, pubEv.Client)

	if err := ts.node.Disconnect(ctx, "", first.Client, protocol.CloseForceReconnect, ""); err != nil {
		t.Fatal(err)
	}
	receive(t, asked, "the reconnect's token request")
	publishBytes(b)
	if _, err := publisher.Publish(ctx, "files", jsonC); err != nil {
		t.Fatal(err)
	}
	close(gate)

	if ev := s.nextSubscribed(t); !ev.Resubscribed || !ev.Recovering || !ev.Recovered {
		t.Fatalf("resubscribed event = %+v", ev)
	}
	if again := receive(t, connected, "second connected event"); again.Encoding != EncodingProtobuf {
		t.Fatalf("reconnected with %q", again.Encoding)
	}
	wantPub(t, s.nextPub(t), true, b, pubEv.Client)
	wantPub(t, s.nextPub(t), false, jsonC, pubEv.Client)
	publishBytes(d)
	wantPub(t, s.nextPub(t), true, d, pubEv.Client)

	h, err := c.History(ctx, "files", HistoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		binary bool
		data   []byte
	}{{true, a}, {true, b}, {false, jsonC}, {true, d}}
	if len(h.Publications) != len(want) {
		t.Fatalf("history has %d publications, want %d", len(h.Publications), len(want))
	}
	for i, w := range want {
		p := h.Publications[i]
		if p.Offset != uint64(i+1) || p.Channel != "files" {
			t.Fatalf("history[%d] = %+v", i, p)
		}
		wantPub(t, p, w.binary, w.data, pubEv.Client)
	}
}

// The fallback transports speak JSON: binary publications reach them in
// base64 and come out as bytes, and bytes they publish reach a client of
// the binary encoding as they were.
func TestFallbackTransportsCarryBinaryPublications(t *testing.T) {
	for _, tr := range []Transport{TransportHTTPStream, TransportSSE} {
		t.Run(string(tr), func(t *testing.T) {
			ts := startFallbackServer(t, false)
			ctx := testCtx(t)
			fb, fbEv := connectAs(t, ts.url, Options{Transport: tr})
			pb, pbEv := connectAs(t, ts.url, Options{})
			if fbEv.Transport != tr || fbEv.Encoding != EncodingJSON || pbEv.Encoding != EncodingProtobuf {
				t.Fatalf("connected as %+v and %+v", fbEv, pbEv)
			}
			fbSub, pbSub := subscribe(t, fb, "files"), subscribe(t, pb, "files")
			fbSub.nextSubscribed(t)
			pbSub.nextSubscribed(t)

			down, up := []byte{0xca, 0xfe, '\n', 0x00, 0xba, 0xbe}, []byte("data: not an event\n\n")
			if _, err := pb.PublishBytes(ctx, "files", down); err != nil {
				t.Fatal(err)
			}
			wantPub(t, fbSub.nextPub(t), true, down, pbEv.Client)
			wantPub(t, pbSub.nextPub(t), true, down, pbEv.Client)
			if _, err := fb.PublishBytes(ctx, "files", up); err != nil {
				t.Fatal(err)
			}
			wantPub(t, pbSub.nextPub(t), true, up, fbEv.Client)
			wantPub(t, fbSub.nextPub(t), true, up, fbEv.Client)

			h, err := fb.History(ctx, "files", HistoryOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(h.Publications) != 2 {
				t.Fatalf("history has %d publications", len(h.Publications))
			}
			wantPub(t, h.Publications[0], true, down, pbEv.Client)
			wantPub(t, h.Publications[1], true, up, fbEv.Client)
		})
	}
}

// Every command and push works in each encoding against a node: connect
// data both ways, subscribe with join and leave, idempotent publishes of
// bytes and JSON, rpc and its errors, send and message, history, presence,
// bytes the server publishes on a server-side subscription, unsubscribe.
func TestEveryCommandInEachEncoding(t *testing.T) {
	for _, enc := range []Encoding{EncodingJSON, EncodingProtobuf} {
		t.Run(string(enc), func(t *testing.T) {
			ts := startServer(t, herald.Config{Channels: herald.ChannelOptions{HistorySize: 8, Presence: true, JoinLeave: true}})
			ts.node.OnConnect(func(_ context.Context, e *herald.ConnectEvent) (herald.ConnectReply, error) {
				return herald.ConnectReply{
					User: e.Token, Info: json.RawMessage(`{"color":"red"}`), Data: e.Data, Channels: []string{"inbox:" + e.Token},
				}, nil
			})
			ts.node.OnRPC("echo", func(_ context.Context, _ *herald.Session, data json.RawMessage) (any, error) { return data, nil })
			ts.node.OnRPC("fail", func(context.Context, *herald.Session, json.RawMessage) (any, error) {
				return nil, herald.NewError(1001, "quota reached")
			})
			ts.node.OnMessage(func(_ context.Context, s *herald.Session, data json.RawMessage) {
				_ = s.Send(json.RawMessage(`{"echo":` + string(data) + `}`))
			})
			ctx := testCtx(t)
			msgs, inbox := make(chan string, 1), make(chan Publication, 1)
			c, ev := connectAs(t, ts.url, Options{
				Encoding: enc, Token: "ann", Data: json.RawMessage(`{"hello":[1,2]}`),
				OnMessage:     func(d json.RawMessage) { msgs <- string(d) },
				OnPublication: func(p Publication) { inbox <- p },
			})
			if ev.Encoding != enc || ev.User != "ann" || string(ev.Data) != `{"hello":[1,2]}` {
				t.Fatalf("connected event = %+v (data %s)", ev, ev.Data)
			}

			joins, leaves := make(chan PresenceEvent, 1), make(chan PresenceEvent, 1)
			s := newSubRecorder()
			h := s.handlers()
			h.OnJoin = func(e PresenceEvent) { joins <- e }
			h.OnLeave = func(e PresenceEvent) { leaves <- e }
			if _, err := c.Subscribe(ctx, "room", h); err != nil {
				t.Fatal(err)
			}
			s.nextSubscribed(t)
			peer, peerEv := connectAs(t, ts.url, Options{Token: "bob"})
			peerSub, err := peer.Subscribe(ctx, "room", SubscriptionHandlers{})
			if err != nil {
				t.Fatal(err)
			}
			if j := receive(t, joins, "join"); j.Client.Client != peerEv.Client || j.Client.User != "bob" || string(j.Client.Data) != `{"color":"red"}` {
				t.Fatalf("join = %+v (data %s)", j, j.Client.Data)
			}
			if err := peerSub.Unsubscribe(ctx); err != nil {
				t.Fatal(err)
			}
			if l := receive(t, leaves, "leave"); l.Client.Client != peerEv.Client {
				t.Fatalf("leave = %+v", l)
			}

			r1, err := c.PublishBytes(ctx, "room", []byte{1, 2, 3}, WithKey("k"))
			if err != nil {
				t.Fatal(err)
			}
			r2, err := c.PublishBytes(ctx, "room", []byte{1, 2, 3}, WithKey("k"))
			if err != nil || r1 != r2 || r1.Offset != 1 || r1.Epoch == "" {
				t.Fatalf("publishes with one key: %+v then %+v, %v", r1, r2, err)
			}
			if _, err := c.Publish(ctx, "room", []int{4}); err != nil {
				t.Fatal(err)
			}
			p := s.nextPub(t)
			wantPub(t, p, true, []byte{1, 2, 3}, ev.Client)
			if p.Key != "k" || p.Offset != 1 || p.Time.IsZero() || p.Info.User != "ann" {
				t.Fatalf("publication = %+v", p)
			}
			wantPub(t, s.nextPub(t), false, []byte(`[4]`), ev.Client)

			if out, err := c.RPC(ctx, "echo", map[string]any{"a": []int{1, 2}}); err != nil || string(out) != `{"a":[1,2]}` {
				t.Fatalf("echo = %s, %v", out, err)
			}
			if _, err := c.RPC(ctx, "fail", nil); Code(err) != 1001 {
				t.Fatalf("application error: %v", err)
			}
			if _, err := c.RPC(ctx, "nope", nil); !errors.Is(err, ErrMethodNotFound) {
				t.Fatalf("unknown method: %v", err)
			}
			if err := c.Send(ctx, map[string]int{"n": 1}); err != nil {
				t.Fatal(err)
			}
			if m := receive(t, msgs, "message push"); m != `{"echo":{"n":1}}` {
				t.Fatalf("message = %s", m)
			}

			hist, err := c.History(ctx, "room", HistoryOptions{Limit: 1, Reverse: true})
			if err != nil || hist.Offset != 2 || hist.Epoch != r1.Epoch || len(hist.Publications) != 1 {
				t.Fatalf("history = %+v, %v", hist, err)
			}
			wantPub(t, hist.Publications[0], false, []byte(`[4]`), ev.Client)
			who, err := c.Presence(ctx, "room")
			if err != nil || len(who.Clients) != 1 || who.Clients[ev.Client].User != "ann" || string(who.Clients[ev.Client].Info) != `{"color":"red"}` {
				t.Fatalf("presence = %+v, %v", who, err)
			}

			if _, err := ts.node.PublishBinary(ctx, "inbox:ann", []byte("from the server")); err != nil {
				t.Fatal(err)
			}
			if p := receive(t, inbox, "server-side publication"); p.Channel != "inbox:ann" || !p.Binary || string(p.Data) != "from the server" {
				t.Fatalf("server-side publication = %+v", p)
			}
			if err := c.Unsubscribe(ctx, "room"); err != nil {
				t.Fatal(err)
			}
			receive(t, s.unsub, "unsubscribed event")
			if _, err := c.History(ctx, "nowhere", HistoryOptions{}); err != nil {
				t.Fatalf("history of an empty channel: %v", err)
			}
		})
	}
}
