package clustertest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/webhook"
)

const (
	webhookSecret = "clustertest-webhook-secret-0123456789"
	tokenSecret   = "clustertest-token-secret-0123456789abcdef"
)

// webhookReceiver keeps the verified webhook events it receives, by id,
// as "name channel user by-node".
type webhookReceiver struct {
	mu     sync.Mutex
	seen   map[string]bool
	events []string
}

func startWebhookReceiver(t *testing.T) (*webhookReceiver, string) {
	r := &webhookReceiver{seen: map[string]bool{}}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if err := webhook.Verify([]byte(webhookSecret), req.Header.Get(webhook.SignatureHeader), body, time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var b webhook.Batch
		if err := json.Unmarshal(body, &b); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		for _, e := range b.Events {
			if !r.seen[e.ID] {
				r.seen[e.ID] = true
				r.events = append(r.events, fmt.Sprintf("%s %s %s by %s", e.Name, e.Channel, e.User, e.Node))
			}
		}
		r.mu.Unlock()
	}))
	t.Cleanup(s.Close)
	return r, s.URL
}

// snapshot returns the events received so far.
func (r *webhookReceiver) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// waitFor waits until every event of want has arrived.
func (r *webhookReceiver) waitFor(t *testing.T, within time.Duration, want ...string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := r.snapshot()
		missing := slices.DeleteFunc(slices.Clone(want), func(w string) bool { return slices.Contains(got, w) })
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhooks missing after %v: %q\nreceived: %q", within, missing, got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// webhookCluster starts three herald nodes on a broker of kind, sending
// webhooks to one receiver, with bob on node-1 (subscribed to news) and
// ann on node-3 (lobby), once their events have arrived.
func webhookCluster(t *testing.T, kind string) (*webhookReceiver, *Broker, []*Node) {
	t.Helper()
	rcv, rcvURL := startWebhookReceiver(t)
	broker := StartBroker(t, kind)
	url := broker.URL() + "?presence_ttl=20s"
	var nodes []*Node
	for i := range 3 {
		nodes = append(nodes, StartNode(t, fmt.Sprintf("node-%d", i+1), url,
			"--presence", "--announce-interval", "500ms", "--token-secret", tokenSecret,
			"--webhook-url", rcvURL, "--webhook-secret", webhookSecret))
	}
	connect := func(n *Node, user, channel string) {
		tok, err := auth.Mint([]byte(tokenSecret), "HS256", auth.Claims{User: user})
		if err != nil {
			t.Fatal(err)
		}
		c := wstest.Dial(t, "ws"+strings.TrimPrefix(n.URL(), "http")+"/ws")
		c.Connect(map[string]any{"token": tok})
		if r := c.Call(map[string]any{"op": "subscribe", "channel": channel}); r.Error != nil {
			t.Fatalf("%s subscribes to %s on %s: %v", user, channel, n.Name, r.Error)
		}
	}
	connect(nodes[0], "bob", "news")
	connect(nodes[2], "ann", "lobby")
	rcv.waitFor(t, 20*time.Second, "user_online  bob by node-1", "channel_occupied news  by node-1", "member_added news bob by node-1",
		"user_online  ann by node-3", "channel_occupied lobby  by node-3", "member_added lobby ann by node-3")
	return rcv, broker, nodes
}

// TestCrashedNodeWebhooks: when a node is killed with -9, it cannot send
// the webhooks of its users and channels; the live node whose name sorts
// first sends them for it, once: ann, whose only connection was on the
// killed node-3, goes offline, and her channel is vacated; bob, on node-1,
// stays online. On Redis and on NATS, with real herald processes.
func TestCrashedNodeWebhooks(t *testing.T) {
	onEachBroker(t, func(t *testing.T, kind string) {
		rcv, _, nodes := webhookCluster(t, kind)
		nodes[2].Kill()
		owed := []string{"user_offline  ann by node-1", "channel_vacated lobby  by node-1", "member_removed lobby ann by node-1"}
		rcv.waitFor(t, 30*time.Second, owed...)

		// node-2 settles too, later (webhook's settleStep, 5 s): by then
		// the list of node-3 is empty, so nothing is sent twice. Watch
		// for duplicates past that.
		time.Sleep(8 * time.Second)
		got := rcv.snapshot()
		for _, gone := range []string{"user_offline  bob ", "channel_vacated news ", "member_removed news bob "} {
			if slices.ContainsFunc(got, func(e string) bool { return strings.HasPrefix(e, gone) }) {
				t.Errorf("bob, still connected to node-1, was reported gone: %q in\n%s", gone, strings.Join(got, "\n"))
			}
		}
		for _, want := range owed {
			name := strings.Fields(want)[0]
			if n := len(slices.DeleteFunc(slices.Clone(got), func(e string) bool { return !strings.HasPrefix(e, name) })); n != 1 {
				t.Errorf("%s sent %d times, want once:\n%s", name, n, strings.Join(got, "\n"))
			}
		}
	})
}

// TestBrokerStallSendsNoFalseOffline: when the broker stalls for longer
// than three announce intervals, every node hears nobody, itself
// included; none takes the others for lost, so no user_offline,
// channel_vacated or member_removed is sent for connections that never
// ended. (Once they hear themselves again, the nodes record their users
// anew, which may repeat user_online: duplicates, not losses.)
func TestBrokerStallSendsNoFalseOffline(t *testing.T) {
	onEachBroker(t, func(t *testing.T, kind string) {
		rcv, broker, _ := webhookCluster(t, kind)
		broker.Stall(t, 4*time.Second)
		// Past the settling of every rank (5 s apart), were any node lost.
		time.Sleep(12 * time.Second)
		for _, e := range rcv.snapshot() {
			for _, name := range []string{"user_offline", "channel_vacated", "member_removed"} {
				if strings.HasPrefix(e, name) {
					t.Errorf("after a broker stall, with every connection still open: %q", e)
				}
			}
		}
		t.Logf("events: %q", rcv.snapshot())
	})
}
