package brokertest

import (
	"context"
	"testing"
	"time"

	"github.com/heraldrt/herald/broker"
)

// Helpers for a broker's own tests, beyond the suites.

// WithHistory keeps 100 publications for a minute: the options the
// suites publish with when they need history.
var WithHistory = broker.PublishOptions{HistorySize: 100, HistoryTTL: time.Minute}

// Start starts b with h, or fails the test.
func Start(t testing.TB, b broker.Broker, h broker.EventHandler) {
	t.Helper()
	if err := b.Start(context.Background(), h); err != nil {
		t.Fatalf("Start: %v", err)
	}
}

// Subscribe subscribes b to channel, or fails the test.
func Subscribe(t testing.TB, b broker.Broker, channel string) {
	t.Helper()
	if err := b.Subscribe(context.Background(), channel); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
}

// Publish publishes {"i":i} to channel, or fails the test.
func Publish(t testing.TB, b broker.Broker, channel string, i int, o broker.PublishOptions) broker.PublishResult {
	t.Helper()
	res, err := b.Publish(context.Background(), channel, &broker.Publication{Data: data(i)}, o)
	if err != nil {
		t.Fatalf("Publish %d: %v", i, err)
	}
	return res
}

// Eventually waits until cond holds, or fails the test after timeout.
// Unlike Recorder.Wait, cond runs outside the recorder's lock, so it may
// call Pubs.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// WaitInOrder waits for n publications on channel, then fails the test
// unless they are offsets 1..n, each once, in order (a little later: so
// that a duplicate delivered late is seen too).
func (r *Recorder) WaitInOrder(t testing.TB, channel string, n int) {
	t.Helper()
	Eventually(t, 5*time.Second, "every publication", func() bool { return len(r.Pubs(channel)) >= n })
	time.Sleep(50 * time.Millisecond)
	pubs := r.Pubs(channel)
	if len(pubs) != n {
		t.Fatalf("delivered %d publications, want %d", len(pubs), n)
	}
	for i, p := range pubs {
		if p.Offset != uint64(i+1) {
			t.Fatalf("position %d holds offset %d: want 1..%d once each, in order", i, p.Offset, n)
		}
	}
}
