package redis_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/broker/brokertest"
	"github.com/heraldrt/herald/broker/redis"
)

// These tests run their own redis-server (startOwnRedis) and stop, kill or
// restart it; the shared Redis is never disturbed.

// eventually retries fn until it succeeds or fails the test after timeout.
func eventually(t *testing.T, timeout time.Duration, what string, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %v: %v", what, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// wantUnavailable checks that err wraps broker.ErrUnavailable and came
// within the broker's timeout (plus slack for a loaded machine).
func wantUnavailable(t *testing.T, what string, took time.Duration, err error) {
	t.Helper()
	if !errors.Is(err, broker.ErrUnavailable) {
		t.Fatalf("%s: got %v, want an error wrapping broker.ErrUnavailable", what, err)
	}
	if took > 1500*time.Millisecond {
		t.Fatalf("%s took %v: a call must fail within Options.Timeout (500ms)", what, took)
	}
}

func shortTimeout(o *redis.Options) { o.Timeout = 500 * time.Millisecond }

// Redis restarted without persistence lost every stream: the next publish
// starts a new epoch, and the subscribed node is told about the loss.
func TestRestartWithoutPersistenceGivesNewEpoch(t *testing.T) {
	r := startOwnRedis(t)
	b, h := newBroker(t, r.url(), "restart", shortTimeout), brokertest.NewLossRecorder()
	brokertest.Start(t, b, h)
	ch := "news"
	if err := b.Subscribe(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	var before broker.PublishResult
	for i := 1; i <= 3; i++ {
		before = brokertest.Publish(t, b, ch, i, brokertest.WithHistory)
	}
	h.WaitPubs(t, 5*time.Second, ch, 3)
	r.restart()
	var after broker.PublishResult
	eventually(t, 5*time.Second, "publish after the restart", func() (err error) {
		after, err = b.Publish(context.Background(), ch, &broker.Publication{Data: []byte(`{}`)}, brokertest.WithHistory)
		return err
	})
	if after.Epoch == before.Epoch || after.Offset != 1 {
		t.Fatalf("after the restart: %+v; before: %+v; want offset 1 in a new epoch", after.StreamPosition, before.StreamPosition)
	}
	// The pub/sub connection reconnects on its own schedule, and the
	// publication reaches this node from history once it has: on a loaded
	// machine that took over 5 s.
	h.WaitPubs(t, 15*time.Second, ch, 4)
	if got := h.Pubs(ch)[3]; got.Offset != 1 {
		t.Fatalf("the new epoch's first publication arrived as offset %d", got.Offset)
	}
	if len(h.Losses()) == 0 {
		t.Fatal("the node was not told that the channel's stream was lost")
	}
}

// The pub/sub connection is killed again and again while publications
// flow: the subscriber still gets every offset once, in order, from the
// stream where pub/sub lost them.
func TestPubSubKilledWhilePublishing(t *testing.T) {
	r := startOwnRedis(t)
	sub, h := newBroker(t, r.url(), "kill", shortTimeout), brokertest.NewLossRecorder()
	brokertest.Start(t, sub, h)
	pubr := newBroker(t, r.url(), "kill", shortTimeout)
	brokertest.Start(t, pubr, brokertest.NewLossRecorder())
	ch := "flow"
	if err := sub.Subscribe(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	const n = 400
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(40 * time.Millisecond):
			}
			_ = r.do("CLIENT", "KILL", "TYPE", "pubsub")
		}
	})
	// History holds every publication of the test: a gap is always
	// fillable, so no state loss is acceptable.
	o := broker.PublishOptions{HistorySize: n, HistoryTTL: time.Minute}
	for i := 1; i <= n; i++ {
		brokertest.Publish(t, pubr, ch, i, o)
		if i%20 == 0 {
			time.Sleep(10 * time.Millisecond) // let several kills land mid-stream
		}
	}
	close(done)
	wg.Wait()
	h.WaitInOrder(t, ch, n)
	if l := h.Losses(); len(l) != 0 {
		t.Fatalf("state loss reported though history held everything: %v", l)
	}
}

// Redis stalls (SIGSTOP) for 2 s: calls fail with ErrUnavailable within
// the timeout, never hang and never acknowledge falsely; after SIGCONT
// they work again.
func TestStalledRedisFailsFast(t *testing.T) {
	r := startOwnRedis(t)
	b := newBroker(t, r.url(), "stall", shortTimeout)
	h := brokertest.NewLossRecorder()
	brokertest.Start(t, b, h)
	ch := "stall"
	if err := b.Subscribe(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	brokertest.Publish(t, b, ch, 1, brokertest.WithHistory)
	r.stop()
	stopped := time.Now()
	ctx := context.Background()
	for name, call := range map[string]func() error{
		"Publish": func() error {
			_, err := b.Publish(ctx, ch, &broker.Publication{Data: []byte(`{}`)}, brokertest.WithHistory)
			return err
		},
		"History": func() error { _, err := b.History(ctx, ch, broker.HistoryOptions{Limit: -1}); return err },
		"AddPresence": func() error {
			return b.AddPresence(ctx, ch, &broker.ClientInfo{Client: "c1"})
		},
		"Ping": func() error { return b.Ping(ctx) },
	} {
		t0 := time.Now()
		err := call()
		wantUnavailable(t, name+" while Redis is stopped", time.Since(t0), err)
	}
	time.Sleep(2*time.Second - time.Since(stopped))
	r.cont()
	eventually(t, 5*time.Second, "publish after SIGCONT", func() error {
		_, err := b.Publish(ctx, ch, &broker.Publication{Data: []byte(`{}`)}, brokertest.WithHistory)
		return err
	})
	if err := b.Ping(ctx); err != nil {
		t.Fatalf("Ping after SIGCONT: %v", err)
	}
	// Whatever went through while stopped (a publish may have been applied
	// after its caller gave up) is delivered in order, without loss.
	res, err := b.History(ctx, ch, broker.HistoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h.WaitInOrder(t, ch, int(res.Position.Offset))
}

// Redis is killed: Ping fails, calls fail fast; when it is back the broker
// serves again, with its subscriptions restored.
func TestKilledRedisRecovers(t *testing.T) {
	r := startOwnRedis(t)
	b, h := newBroker(t, r.url(), "killed", shortTimeout), brokertest.NewLossRecorder()
	brokertest.Start(t, b, h)
	ch := "back"
	if err := b.Subscribe(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	r.kill()
	ctx := context.Background()
	t0 := time.Now()
	wantUnavailable(t, "Ping with Redis down", time.Since(t0), b.Ping(ctx))
	t0 = time.Now()
	_, err := b.Publish(ctx, ch, &broker.Publication{Data: []byte(`{}`)}, brokertest.WithHistory)
	wantUnavailable(t, "Publish with Redis down", time.Since(t0), err)
	r.start()
	eventually(t, 5*time.Second, "Ping after Redis is back", func() error { return b.Ping(ctx) })
	// The resubscription runs on its own schedule: publish until one
	// arrives.
	eventually(t, 5*time.Second, "delivery after Redis is back", func() error {
		if _, err := b.Publish(ctx, ch, &broker.Publication{Data: []byte(`{}`)}, broker.PublishOptions{}); err != nil {
			return err
		}
		time.Sleep(100 * time.Millisecond)
		if len(h.Pubs(ch)) == 0 {
			return errors.New("nothing delivered yet")
		}
		return nil
	})
}
