package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/broker/brokertest"
)

// A node that stops refreshing (here: closed without removing its
// clients, as a crash would) loses its presence entries within the TTL;
// a live node's entries outlive the TTL because it refreshes them.
func TestPresenceOfStoppedNodeExpires(t *testing.T) {
	url := sharedURL()
	needRedis(t, url)
	prefix := testPrefix(t, url)
	live, dead := newBroker(t, url, prefix), newBroker(t, url, prefix) // PresenceTTL 1.5 s
	brokertest.Start(t, live, brokertest.NewRecorder())
	brokertest.Start(t, dead, brokertest.NewRecorder())
	ctx := context.Background()
	ch := "room"
	if err := live.AddPresence(ctx, ch, &broker.ClientInfo{Client: "alive"}); err != nil {
		t.Fatal(err)
	}
	if err := dead.AddPresence(ctx, ch, &broker.ClientInfo{Client: "crashed"}); err != nil {
		t.Fatal(err)
	}
	if got, err := live.Presence(ctx, ch); err != nil || len(got) != 2 {
		t.Fatalf("presence %v %v", got, err)
	}
	_ = dead.Close(ctx)
	time.Sleep(2500 * time.Millisecond)
	got, err := live.Presence(ctx, ch)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got["alive"] == nil {
		t.Fatalf("after the TTL: %v; want only the refreshed entry", got)
	}
}
