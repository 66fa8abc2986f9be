package client

import (
	"math/rand/v2"
	"time"
)

// backoff computes reconnect delays: exponential growth from min, capped at
// max, with full jitter, so that clients dropped together (a restarting
// node) spread their reconnects instead of arriving in waves.
type backoff struct {
	min, max time.Duration
}

// delay returns the sleep before attempt n (0 for the first retry): a random
// duration in [0, min(max, min*2^n)].
func (b backoff) delay(attempt int) time.Duration {
	ceiling := b.max
	if attempt < 0 {
		attempt = 0
	}
	if attempt < 62 && b.min <= b.max>>attempt {
		ceiling = b.min << attempt
	}
	if ceiling <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(ceiling) + 1))
}
