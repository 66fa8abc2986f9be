package webhook

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
	"github.com/heraldrt/herald/broker/redis"
	"github.com/heraldrt/herald/internal/browsertest"
)

// TestKeyEntries: a key survives its trip through a node's list, user
// names with spaces included; what no key encodes is refused.
func TestKeyEntries(t *testing.T) {
	for _, k := range []key{{kind: 'u', user: "ann lee"}, {kind: 'c', channel: "room:1"}, {kind: 'm', channel: "room:1", user: "ann lee"}, {kind: 'u'}} {
		if got, ok := parseKey(k.String()); !ok || got != k {
			t.Errorf("parseKey(%q) = %+v %v, want %+v", k.String(), got, ok, k)
		}
	}
	for _, bad := range []string{"", "u", "uann", "x ann", "m room:1"} {
		if k, ok := parseKey(bad); ok {
			t.Errorf("parseKey(%q) = %+v, want a refusal", bad, k)
		}
	}
}

// TestRestartSettlesEarlierLife: a node that crashed and came back under
// the same name before the others noticed finds the keys its earlier life
// listed, and sends what that life owed for those it does not hold again.
func TestRestartSettlesEarlierLife(t *testing.T) {
	redisURL := os.Getenv("HERALD_REDIS_URL")
	if redisURL == "" {
		redisURL = "redis://127.0.0.1:6379"
	}
	prefix := fmt.Sprintf("heraldtest-settle-%x", rand.Uint64())
	newBroker := func() *redis.Broker {
		b, err := redis.New(redisURL, redis.Options{Prefix: prefix})
		if err == nil {
			err = b.Ping(context.Background())
		}
		if err != nil {
			browsertest.NeedService(t, "settle test: no Redis at %s (%v)", redisURL, err)
		}
		return b
	}
	ctx := context.Background()

	// The earlier life of n1: ann online, lobby occupied, ann a member;
	// then its broker stops without removing anything, as a crash would.
	earlier := newBroker()
	for _, k := range []key{{kind: 'u', user: "ann"}, {kind: 'c', channel: "lobby"}, {kind: 'm', channel: "lobby", user: "ann"}} {
		if err := earlier.AddPresence(ctx, nodeSet("n1"), &broker.ClientInfo{Client: k.String()}); err != nil {
			t.Fatal(err)
		}
		if err := earlier.AddPresence(ctx, k.set(), &broker.ClientInfo{Client: "n1"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := earlier.Close(ctx); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var got []string
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var b Batch
		_ = json.Unmarshal(body, &b)
		mu.Lock()
		for _, e := range b.Events {
			got = append(got, e.Name+" "+e.Channel+" "+e.User)
		}
		mu.Unlock()
	}))
	defer rcv.Close()

	b := newBroker()
	node, err := herald.New(herald.Config{Name: "n1", Broker: b, ShutdownWindow: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w, err := New(Config{Endpoints: []Endpoint{{URL: rcv.URL, Secret: "0123456789abcdef0123"}}, Presence: b, FlushDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w.Attach(node)
	defer func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_ = node.Shutdown(sctx)
		_ = w.Close(sctx)
	}()

	want := []string{"channel_vacated lobby ", "member_removed lobby ann", "user_offline  ann"}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		have := slices.Sorted(slices.Values(got))
		mu.Unlock()
		if slices.Equal(have, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("events %q, want %q", have, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	left, err := b.Presence(ctx, nodeSet("n1"))
	if err != nil || len(left) != 0 {
		t.Fatalf("n1's list after settling: %v %v, want it empty", left, err)
	}
}
