package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldrt/herald/broker/redis"
)

func shortCheck(o *redis.Options) { o.PositionCheck = 20 * time.Millisecond }

// A lost last publication, which no later one reveals, is delivered by
// the periodic position check, in order and once.
func TestPositionCheckDeliversLostLastPublication(t *testing.T) {
	url := sharedURL()
	needRedis(t, url)
	prefix := testPrefix(t, url)
	b, h := newBroker(t, url, prefix, shortCheck), newLossRecorder()
	start(t, b, h)
	ch := "tail"
	if err := b.Subscribe(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	publish(t, b, ch, 1, hist)
	publishSilently(t, url, prefix, ch) // 2, and nothing after it
	checkInOrder(t, h, ch, 2)
	if l := h.Losses(); len(l) != 0 {
		t.Fatalf("state loss reported: %v", l)
	}
}

// Many check intervals of steady publishing disconnect nobody: the check
// reports no loss on a healthy channel and delivers nothing twice, even
// when it reads the stream while publications are in flight.
// (Centrifugo users report spurious "insufficient state" disconnects from
// such a check: centrifugal/centrifugo#1120.)
func TestPositionCheckQuietOnHealthyChannels(t *testing.T) {
	url := sharedURL()
	needRedis(t, url)
	prefix := testPrefix(t, url)
	b, h := newBroker(t, url, prefix, shortCheck), newLossRecorder()
	start(t, b, h)
	channels := []string{"a", "b", "c"}
	for _, ch := range channels {
		if err := b.Subscribe(context.Background(), ch); err != nil {
			t.Fatal(err)
		}
	}
	const n = 150 // about 1.5 s: some 75 check intervals
	for i := 1; i <= n; i++ {
		for _, ch := range channels {
			publish(t, b, ch, i, hist)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, ch := range channels {
		checkInOrder(t, h, ch, n)
	}
	if l := h.Losses(); len(l) != 0 {
		t.Fatalf("state losses on healthy channels: %v", l)
	}
}
