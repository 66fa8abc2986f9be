package nats_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/broker/brokertest"
)

// A node's presence entries outlive the TTL while it runs (it refreshes
// them) and disappear within the TTL once it is gone without removing
// them (a crash).
func TestPresenceOfCrashedNodeExpires(t *testing.T) {
	url := sharedURL()
	needNATS(t, url)
	prefix := testPrefix(t, url)
	a, b := newBroker(t, url, prefix), newBroker(t, url, prefix)
	brokertest.Start(t, a, brokertest.NewRecorder())
	brokertest.Start(t, b, brokertest.NewRecorder())
	ctx := context.Background()
	ch := "presence:ttl"
	if err := a.AddPresence(ctx, ch, &broker.ClientInfo{Client: "ca"}); err != nil {
		t.Fatal(err)
	}
	if err := b.AddPresence(ctx, ch, &broker.ClientInfo{Client: "cb"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // past the 1.5 s TTL: refreshed
	if got, err := b.Presence(ctx, ch); err != nil || len(got) != 2 {
		t.Fatalf("refreshed entries after the TTL: %+v %v", got, err)
	}
	_ = a.Close(ctx) // a crash: a's entry is never removed
	brokertest.Eventually(t, 4*time.Second, "the closed node's entry to expire", func() bool {
		got, err := b.Presence(ctx, ch)
		return err == nil && len(got) == 1 && got["cb"] != nil
	})
}

// An idempotency key on a channel without history is shared by nodes and
// publishes nothing twice.
func TestIdempotencyWithoutHistory(t *testing.T) {
	url := sharedURL()
	needNATS(t, url)
	prefix := testPrefix(t, url)
	a, b, h := newBroker(t, url, prefix), newBroker(t, url, prefix), brokertest.NewLossRecorder()
	brokertest.Start(t, a, brokertest.NewRecorder())
	brokertest.Start(t, b, h)
	ch := "nohist"
	brokertest.Subscribe(t, b, ch)
	o := broker.PublishOptions{IdempotencyKey: "k", IdempotencyWindow: time.Second}
	first, err := a.Publish(context.Background(), ch, pubN(1), o)
	if err != nil || first.Duplicate || first.Offset != 0 {
		t.Fatalf("first: %+v %v", first, err)
	}
	again, err := b.Publish(context.Background(), ch, pubN(2), o)
	if err != nil || !again.Duplicate || again.Offset != 0 || again.Epoch != "" {
		t.Fatalf("again: %+v %v", again, err)
	}
	time.Sleep(1200 * time.Millisecond)
	later, err := b.Publish(context.Background(), ch, pubN(3), o)
	if err != nil || later.Duplicate {
		t.Fatalf("past the window: %+v %v", later, err)
	}
	brokertest.Eventually(t, 5*time.Second, "two publications", func() bool { return len(h.Pubs(ch)) == 2 })
	time.Sleep(50 * time.Millisecond)
	if p := h.Pubs(ch); len(p) != 2 || string(p[1].Data) != `{"i":3}` {
		t.Fatalf("delivered %d publications", len(p))
	}
}
