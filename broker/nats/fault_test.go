package nats_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/broker/brokertest"
	"github.com/heraldrt/herald/broker/nats"
)

// These tests run their own nats-server: they drop connections, restart,
// stall and kill it.

const faultTimeout = 500 * time.Millisecond

func faultOpts(o *nats.Options) { o.Timeout = faultTimeout }

// publishEventually retries a publish until it succeeds (NATS is coming
// back) or fails the test after timeout.
func publishEventually(t *testing.T, b *nats.Broker, ch string, i int, timeout time.Duration) broker.PublishResult {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		res, err := b.Publish(context.Background(), ch, pubN(i), brokertest.WithHistory)
		if err == nil {
			return res
		}
		if !errors.Is(err, broker.ErrUnavailable) {
			t.Fatalf("Publish %d: %v, want success or ErrUnavailable", i, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("Publish %d still failing after %v: %v", i, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A node whose connection drops while another node publishes gets every
// publication it missed, in order, from history once it is back.
func TestConnectionDroppedWhilePublishing(t *testing.T) {
	s := startOwnNATS(t)
	p := startProxy(t, s.url()[len("nats://"):])
	prefix := testPrefix(t, s.url())
	sub := newBroker(t, p.url(), prefix, faultOpts)
	pubr := newBroker(t, s.url(), prefix, faultOpts)
	h := brokertest.NewLossRecorder()
	brokertest.Start(t, sub, h)
	brokertest.Start(t, pubr, brokertest.NewRecorder())
	ch := "dropped"
	brokertest.Subscribe(t, sub, ch)

	const n = 60
	var published atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; i <= n; i++ {
			if _, err := pubr.Publish(context.Background(), ch, pubN(i), brokertest.WithHistory); err != nil {
				t.Errorf("Publish %d: %v", i, err)
				return
			}
			published.Add(1)
			time.Sleep(5 * time.Millisecond)
		}
	}()
	brokertest.Eventually(t, 5*time.Second, "some publications", func() bool { return published.Load() >= 10 })
	p.cut()
	brokertest.Eventually(t, 5*time.Second, "more publications while cut", func() bool { return published.Load() >= 30 })
	p.restore()
	<-done
	h.WaitInOrder(t, ch, n)
	if l := h.Losses(); len(l) != 0 {
		t.Fatalf("state loss reported although history held everything: %v", l)
	}
}

// A server that restarts without its store lost every channel's history:
// the node reports the loss, and the channel starts again in a new epoch.
func TestRestartWithoutStore(t *testing.T) {
	s := startOwnNATS(t)
	prefix := testPrefix(t, s.url())
	b, h := newBroker(t, s.url(), prefix, faultOpts), brokertest.NewLossRecorder()
	brokertest.Start(t, b, h)
	ch := "wiped"
	brokertest.Subscribe(t, b, ch)
	brokertest.Publish(t, b, ch, 1, brokertest.WithHistory)
	before := brokertest.Publish(t, b, ch, 2, brokertest.WithHistory)
	brokertest.Eventually(t, 5*time.Second, "two publications", func() bool { return len(h.Pubs(ch)) == 2 })

	s.restart(true)
	brokertest.Eventually(t, 10*time.Second, "the state loss", func() bool { return len(h.Losses()) == 1 })
	after := publishEventually(t, b, ch, 3, 5*time.Second)
	if after.Epoch == before.Epoch || after.Offset != 1 {
		t.Fatalf("after the store was lost: %+v, before %+v; want offset 1 in a new epoch", after.StreamPosition, before.StreamPosition)
	}
	brokertest.Eventually(t, 5*time.Second, "the new epoch's publication", func() bool { return len(h.Pubs(ch)) == 3 })
	if got := h.Pubs(ch)[2]; got.Offset != 1 {
		t.Fatalf("delivered offset %d after the loss, want 1", got.Offset)
	}
	res, err := b.History(context.Background(), ch, broker.HistoryOptions{Limit: -1, Since: &before.StreamPosition})
	if err != nil || res.Position != after.StreamPosition || len(res.Publications) != 0 {
		t.Fatalf("history since the lost epoch: %+v %v; want the new position and nothing else", res, err)
	}
}

// A stalled server (SIGSTOP) makes publishes fail with ErrUnavailable
// within the timeout, never hang or pretend; they succeed again once it
// runs, and offsets go on from where they were.
func TestStalledServer(t *testing.T) {
	s := startOwnNATS(t)
	prefix := testPrefix(t, s.url())
	b, h := newBroker(t, s.url(), prefix, faultOpts), brokertest.NewLossRecorder()
	brokertest.Start(t, b, h)
	ch := "stalled"
	brokertest.Subscribe(t, b, ch)
	brokertest.Publish(t, b, ch, 1, brokertest.WithHistory)

	s.stop()
	began := time.Now()
	_, err := b.Publish(context.Background(), ch, pubN(2), brokertest.WithHistory)
	took := time.Since(began)
	if !errors.Is(err, broker.ErrUnavailable) {
		t.Fatalf("Publish to a stalled server: %v, want ErrUnavailable", err)
	}
	if took > faultTimeout+300*time.Millisecond {
		t.Fatalf("Publish to a stalled server took %v, want at most the %v timeout", took, faultTimeout)
	}
	if err := b.Ping(context.Background()); err == nil {
		t.Fatal("Ping succeeded while the server is stalled")
	}
	time.Sleep(2*time.Second - time.Since(began))
	s.cont()

	res := publishEventually(t, b, ch, 3, 10*time.Second)
	if res.Offset != 2 {
		t.Fatalf("first offset after the stall is %d, want 2 (the failed publish made nothing)", res.Offset)
	}
	h.WaitInOrder(t, ch, 2)
}

// A killed server makes Ping fail and publishes fail fast; once it is back
// (with its store), both work again and offsets go on in the same epoch.
func TestKilledServer(t *testing.T) {
	s := startOwnNATS(t)
	prefix := testPrefix(t, s.url())
	b, h := newBroker(t, s.url(), prefix, faultOpts), brokertest.NewLossRecorder()
	brokertest.Start(t, b, h)
	ch := "killed"
	brokertest.Subscribe(t, b, ch)
	first := brokertest.Publish(t, b, ch, 1, brokertest.WithHistory)

	bin := s.cmd.Path
	s.kill()
	brokertest.Eventually(t, 5*time.Second, "Ping to fail", func() bool { return b.Ping(context.Background()) != nil })
	began := time.Now()
	_, err := b.Publish(context.Background(), ch, pubN(2), brokertest.WithHistory)
	if !errors.Is(err, broker.ErrUnavailable) {
		t.Fatalf("Publish while NATS is down: %v, want ErrUnavailable", err)
	}
	if took := time.Since(began); took > 100*time.Millisecond {
		t.Fatalf("Publish while disconnected took %v: it must fail fast", took)
	}
	for name, err := range map[string]error{
		"History":     errOf(b.History(context.Background(), ch, broker.HistoryOptions{})),
		"AddPresence": b.AddPresence(context.Background(), ch, &broker.ClientInfo{Client: "c"}),
		"Presence":    errOf(b.Presence(context.Background(), ch)),
		"Control":     b.PublishControl(context.Background(), []byte("x")),
	} {
		if !errors.Is(err, broker.ErrUnavailable) {
			t.Errorf("%s while NATS is down: %v, want ErrUnavailable", name, err)
		}
	}

	s.start(bin)
	brokertest.Eventually(t, 10*time.Second, "Ping to succeed", func() bool { return b.Ping(context.Background()) == nil })
	res := publishEventually(t, b, ch, 2, 5*time.Second)
	if res.Epoch != first.Epoch || res.Offset != 2 {
		t.Fatalf("after the restart: %+v, want offset 2 in epoch %s", res.StreamPosition, first.Epoch)
	}
	h.WaitInOrder(t, ch, 2)
	if l := h.Losses(); len(l) != 0 {
		t.Fatalf("state loss reported although the server kept its store: %v", l)
	}
}

func errOf[T any](_ T, err error) error { return err }
