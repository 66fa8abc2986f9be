package client

import (
	"testing"
	"time"
)

func TestBackoffFullJitter(t *testing.T) {
	b := backoff{min: 100 * time.Millisecond, max: 2 * time.Second}
	for attempt := 0; attempt < 100; attempt++ {
		ceiling := b.max
		if attempt < 5 {
			ceiling = b.min << attempt // 100ms, 200ms, ... 1.6s
		}
		for i := 0; i < 50; i++ {
			if d := b.delay(attempt); d < 0 || d > ceiling {
				t.Fatalf("attempt %d: delay %v outside [0, %v]", attempt, d, ceiling)
			}
		}
	}
	// The jitter is full: over many draws, some delays fall in the lower
	// half of the range.
	low := 0
	for i := 0; i < 200; i++ {
		if b.delay(10) < b.max/2 {
			low++
		}
	}
	if low == 0 {
		t.Fatal("no delay in the lower half of [0, max]: the jitter is not full")
	}
	if d := (backoff{}).delay(3); d != 0 {
		t.Fatalf("zero backoff gave %v", d)
	}
}
