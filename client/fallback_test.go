package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/protocol"
)

// startFallbackServer starts a node with the fallback transports mounted
// next to /ws; with noWebSocket, /ws answers 403 as a proxy that forbids
// WebSockets would.
func startFallbackServer(t *testing.T, noWebSocket bool) *testServer {
	t.Helper()
	node, err := herald.New(herald.Config{ShutdownWindow: 20 * time.Millisecond, Channels: herald.ChannelOptions{HistorySize: 100}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	if noWebSocket {
		mux.HandleFunc("/ws", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "no websockets here", http.StatusForbidden)
		})
	} else {
		mux.Handle("/ws", node.Handler())
	}
	for _, p := range []string{"/stream", "/sse", "/cmd"} {
		mux.Handle(p, node.FallbackHandler())
	}
	hs := httptest.NewServer(mux)
	ts := &testServer{node: node, http: hs, url: wstest.WSURL(hs.URL, "/ws")}
	t.Cleanup(ts.stop)
	return ts
}

// chatOn connects c, subscribes, publishes and waits for its own
// publication; it returns the transport the connection used.
func chatOn(t *testing.T, c *Client, connected <-chan ConnectedEvent) Transport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	ev := <-connected
	got := make(chan Publication, 1)
	if _, err := c.Subscribe(ctx, "room", SubscriptionHandlers{OnPublication: func(p Publication) { got <- p }}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Publish(ctx, "room", map[string]string{"text": "hello"}); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-got:
		if string(p.Data) != `{"text":"hello"}` {
			t.Fatalf("publication %s", p.Data)
		}
	case <-ctx.Done():
		t.Fatal("no publication")
	}
	return ev.Transport
}

// With WebSockets refused, the automatic choice falls back to
// HTTP-streaming, and says so in the connected event.
func TestAutoFallsBackWhenWebSocketRefused(t *testing.T) {
	ts := startFallbackServer(t, true)
	connected := make(chan ConnectedEvent, 4)
	c := newClient(t, ts.url, Options{OnConnected: func(e ConnectedEvent) { connected <- e }})
	if tr := chatOn(t, c, connected); tr != TransportHTTPStream {
		t.Fatalf("transport %q, want %q", tr, TransportHTTPStream)
	}
}

// Where WebSockets work, the automatic choice takes them.
func TestAutoPrefersWebSocket(t *testing.T) {
	ts := startFallbackServer(t, false)
	connected := make(chan ConnectedEvent, 4)
	c := newClient(t, ts.url, Options{OnConnected: func(e ConnectedEvent) { connected <- e }})
	if tr := chatOn(t, c, connected); tr != TransportWebSocket {
		t.Fatalf("transport %q, want %q", tr, TransportWebSocket)
	}
}

// Options.Transport forces a transport; a fallback client reconnects on it
// after a server-initiated disconnect and its subscription goes on.
func TestForcedFallbackTransportReconnects(t *testing.T) {
	for _, tr := range []Transport{TransportHTTPStream, TransportSSE} {
		t.Run(string(tr), func(t *testing.T) {
			ts := startFallbackServer(t, false)
			connected := make(chan ConnectedEvent, 4)
			c := newClient(t, ts.url, Options{Transport: tr, OnConnected: func(e ConnectedEvent) { connected <- e }})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := c.Connect(ctx); err != nil {
				t.Fatal(err)
			}
			first := <-connected
			if first.Transport != tr {
				t.Fatalf("transport %q, want %q", first.Transport, tr)
			}
			pubs := make(chan Publication, 16)
			if _, err := c.Subscribe(ctx, "feed", SubscriptionHandlers{OnPublication: func(p Publication) { pubs <- p }}); err != nil {
				t.Fatal(err)
			}
			if err := ts.node.Disconnect(ctx, "", first.Client, protocol.CloseForceReconnect, "test"); err != nil {
				t.Fatal(err)
			}
			var second ConnectedEvent
			select {
			case second = <-connected:
			case <-ctx.Done():
				t.Fatal("no reconnect")
			}
			if second.Transport != tr || second.Client == first.Client {
				t.Fatalf("reconnected as %+v after %+v", second, first)
			}
			// The subscription is renewed on the new stream.
			for {
				if _, err := ts.node.Publish(ctx, "feed", []byte(`{"n":1}`)); err != nil {
					t.Fatal(err)
				}
				select {
				case <-pubs:
					return
				case <-time.After(100 * time.Millisecond):
				case <-ctx.Done():
					t.Fatal("no publication after the reconnect")
				}
			}
		})
	}
}
