package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/broker/nats"
	"github.com/heraldrt/herald/broker/redis"
	"github.com/heraldrt/herald/internal/browsertest"
	"github.com/heraldrt/herald/internal/leaktest"
	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/webhook"
)

func TestMain(m *testing.M) { leaktest.VerifyTestMain(m) }

const secret = "0123456789abcdef0123456789abcdef"

// receiver collects verified events, de-duplicated by id.
type receiver struct {
	mu     sync.Mutex
	seen   map[string]bool
	events []string // "name channel user", then a publication's data and "binary"
	bad    int
}

func newReceiver(t *testing.T) (*receiver, string) {
	r := &receiver{seen: map[string]bool{}}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if err := webhook.Verify([]byte(secret), req.Header.Get(webhook.SignatureHeader), body, time.Now()); err != nil {
			r.mu.Lock()
			r.bad++
			r.mu.Unlock()
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var b webhook.Batch
		_ = json.Unmarshal(body, &b)
		r.mu.Lock()
		for _, e := range b.Events {
			if !r.seen[e.ID] {
				r.seen[e.ID] = true
				ev := fmt.Sprintf("%s %s %s", e.Name, e.Channel, e.User)
				if e.Name == webhook.Publication {
					ev += " " + string(e.Data)
					if e.Binary {
						ev += " binary"
					}
				}
				r.events = append(r.events, ev)
			}
		}
		r.mu.Unlock()
	}))
	t.Cleanup(s.Close)
	return r, s.URL
}

// wait waits until the receiver holds want (in any order), then checks
// that nothing else arrives for a moment.
func (r *receiver) wait(t *testing.T, want ...string) {
	t.Helper()
	slices.Sort(want)
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.mu.Lock()
		got := slices.Clone(r.events)
		r.mu.Unlock()
		slices.Sort(got)
		if slices.Equal(got, want) {
			time.Sleep(200 * time.Millisecond)
			r.mu.Lock()
			extra := len(r.events) - len(want)
			r.mu.Unlock()
			if extra != 0 {
				t.Fatalf("%d unexpected events after %q", extra, want)
			}
			r.mu.Lock()
			r.events = nil
			r.mu.Unlock()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("events:\n got %q\nwant %q", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// clusterBroker is a distributed broker: the node's, and its webhooks'
// presence store.
type clusterBroker interface {
	broker.Broker
	broker.PresenceStore
}

// startNode starts a node with webhooks to url; b is its broker (nil: the
// embedded one).
func startNode(t *testing.T, url string, b clusterBroker, publications ...string) string {
	t.Helper()
	cfg := herald.Config{ShutdownWindow: 10 * time.Millisecond, Namespaces: map[string]herald.ChannelOptions{
		"room": {Presence: true}, "news": {},
	}}
	wc := webhook.Config{Endpoints: []webhook.Endpoint{{URL: url, Secret: secret}}, FlushDelay: time.Millisecond, Publications: publications}
	if b != nil {
		cfg.Broker = b
		wc.Presence = b
	}
	n, err := herald.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n.OnConnect(func(ctx context.Context, e *herald.ConnectEvent) (herald.ConnectReply, error) {
		return herald.ConnectReply{User: e.Token}, nil // the token is the user, for the test
	})
	w, err := webhook.New(wc)
	if err != nil {
		t.Fatal(err)
	}
	w.Attach(n)
	mux := http.NewServeMux()
	mux.Handle("/ws", n.Handler())
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = n.Shutdown(ctx)
		_ = w.Close(ctx)
	})
	return wstest.WSURL(hs.URL, "/ws")
}

func connect(t *testing.T, url, user string, channels ...string) *wstest.Client {
	t.Helper()
	c := wstest.Dial(t, url)
	c.Connect(map[string]any{"token": user})
	for _, ch := range channels {
		if r := c.Call(map[string]any{"op": "subscribe", "channel": ch}); r.Error != nil {
			t.Fatal(r.Error)
		}
	}
	return c
}

// TestEventsOneNode: the first and last connection of a user, subscriber
// of a channel and member of a presence channel give one event each.
func TestEventsOneNode(t *testing.T) {
	rcv, url := newReceiver(t)
	ws := startNode(t, url, nil)
	a := connect(t, ws, "ann", "room:1", "news:1")
	rcv.wait(t, "user_online  ann", "channel_occupied room:1 ", "member_added room:1 ann", "channel_occupied news:1 ")
	b := connect(t, ws, "ann", "room:1")
	c := connect(t, ws, "bob", "room:1")
	rcv.wait(t, "user_online  bob", "member_added room:1 bob")
	b.Conn.Close(1000, "")
	a.Conn.Close(1000, "")
	rcv.wait(t, "user_offline  ann", "member_removed room:1 ann", "channel_vacated news:1 ")
	c.Conn.Close(1000, "")
	rcv.wait(t, "user_offline  bob", "member_removed room:1 bob", "channel_vacated room:1 ")
	if rcv.bad != 0 {
		t.Fatalf("%d requests failed verification", rcv.bad)
	}
}

// TestEventsTwoNodesOnRedis: with two nodes joined by Redis, a user
// connected to both is online once and offline once, when the last
// connection ends, whichever node holds it; the same for a channel.
func TestEventsTwoNodesOnRedis(t *testing.T) {
	redisURL := os.Getenv("HERALD_REDIS_URL")
	if redisURL == "" {
		redisURL = "redis://127.0.0.1:6379"
	}
	prefix := fmt.Sprintf("heraldtest-webhook-%x", rand.Uint64())
	eventsTwoNodes(t, func() (clusterBroker, error) {
		b, err := redis.New(redisURL, redis.Options{Prefix: prefix})
		if err == nil {
			err = b.Ping(context.Background())
		}
		if err != nil {
			browsertest.NeedService(t, "webhook cluster test: no Redis at %s (%v)", redisURL, err)
		}
		return b, nil
	})
}

// TestEventsTwoNodesOnNATS is the same with two nodes joined by NATS
// JetStream, whose presence store is a key-value bucket.
func TestEventsTwoNodesOnNATS(t *testing.T) {
	natsURL := os.Getenv("HERALD_NATS_URL")
	if natsURL == "" {
		natsURL = "nats://127.0.0.1:4222"
	}
	prefix := fmt.Sprintf("heraldtest-webhook-%x", rand.Uint64())
	eventsTwoNodes(t, func() (clusterBroker, error) {
		b, err := nats.New(natsURL, nats.Options{Prefix: prefix})
		if err != nil {
			browsertest.NeedService(t, "webhook cluster test: no NATS with JetStream at %s (%v)", natsURL, err)
		}
		if err := b.Ping(context.Background()); err != nil {
			_ = b.Close(context.Background())
			browsertest.NeedService(t, "webhook cluster test: no NATS with JetStream at %s (%v)", natsURL, err)
		}
		return b, nil
	})
}

// eventsTwoNodes plays the two-node scenario on brokers newBroker makes,
// one per node, joined through one server.
func eventsTwoNodes(t *testing.T, newBroker func() (clusterBroker, error)) {
	brokers := make([]clusterBroker, 2)
	for i := range brokers {
		b, err := newBroker()
		if err != nil {
			t.Fatal(err)
		}
		brokers[i] = b
	}
	rcv, url := newReceiver(t)
	ws1 := startNode(t, url, brokers[0])
	ws2 := startNode(t, url, brokers[1])

	a := connect(t, ws1, "ann", "room:1")
	rcv.wait(t, "user_online  ann", "channel_occupied room:1 ", "member_added room:1 ann")
	b := connect(t, ws2, "ann", "room:1")
	time.Sleep(100 * time.Millisecond)
	rcv.wait(t) // nothing: ann and room:1 were already there
	a.Conn.Close(1000, "")
	time.Sleep(100 * time.Millisecond)
	rcv.wait(t) // nothing: ann is still on node 2
	b.Conn.Close(1000, "")
	rcv.wait(t, "user_offline  ann", "channel_vacated room:1 ", "member_removed room:1 ann")
}

// TestPublicationEvents: publications in a listed namespace are sent, with
// their data and publisher (a binary one in base64, marked binary); others
// are not.
func TestPublicationEvents(t *testing.T) {
	rcv, url := newReceiver(t)
	ws := startNode(t, url, nil, "news")
	c := connect(t, ws, "ann")
	for _, ch := range []string{"news:1", "room:1"} {
		if r := c.Call(map[string]any{"op": "publish", "channel": ch, "data": map[string]int{"n": 1}}); r.Error != nil {
			t.Fatal(r.Error)
		}
	}
	if r := c.Call(map[string]any{"op": "publish", "channel": "news:1", "data": "yv4=", "binary": true}); r.Error != nil {
		t.Fatal(r.Error)
	}
	rcv.wait(t, "user_online  ann", `publication news:1 ann {"n":1}`, `publication news:1 ann "yv4=" binary`)
}
