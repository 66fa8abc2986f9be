package nats_test

import (
	"testing"
	"time"

	"github.com/heraldrt/herald/broker/nats"
)

func shortCheck(o *nats.Options) { o.PositionCheck = 20 * time.Millisecond }

// A lost last publication, which no later one reveals, is delivered by
// the periodic position check, in order and once.
func TestPositionCheckDeliversLostLastPublication(t *testing.T) {
	url := sharedURL()
	needNATS(t, url)
	prefix := testPrefix(t, url)
	b, h := newBroker(t, url, prefix, shortCheck), newLossRecorder()
	start(t, b, h)
	ch := "tail"
	subscribe(t, b, ch)
	publish(t, b, ch, 1, hist)
	openRaw(t, url, prefix, ch).publishSilently(t) // 2, and nothing after it
	checkInOrder(t, h, ch, 2)
	if l := h.Losses(); len(l) != 0 {
		t.Fatalf("state loss reported: %v", l)
	}
}

// Many check intervals of steady publishing disconnect nobody: no loss on
// healthy channels, nothing delivered twice, even when the check reads
// history while publications are in flight.
func TestPositionCheckQuietOnHealthyChannels(t *testing.T) {
	url := sharedURL()
	needNATS(t, url)
	prefix := testPrefix(t, url)
	b, h := newBroker(t, url, prefix, shortCheck), newLossRecorder()
	start(t, b, h)
	channels := []string{"a", "b", "c"}
	for _, ch := range channels {
		subscribe(t, b, ch)
	}
	const n = 100 // about 1.5 s: some 75 check intervals
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
