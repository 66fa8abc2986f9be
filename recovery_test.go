package herald_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/protocol"
)

type subResult struct {
	protocol.SubscribeResult
	err *protocol.Error
}

func subscribe(t *testing.T, c *wstest.Client, fields map[string]any) subResult {
	t.Helper()
	cmd := map[string]any{"op": "subscribe"}
	for k, v := range fields {
		cmd[k] = v
	}
	r := c.Call(cmd)
	var res subResult
	res.err = r.Error
	if r.Error == nil {
		if err := json.Unmarshal(r.Result, &res.SubscribeResult); err != nil {
			t.Fatal(err)
		}
	}
	return res
}

func publishN(t *testing.T, n *herald.Node, ch string, from, to int) {
	t.Helper()
	for i := from; i <= to; i++ {
		if _, err := n.Publish(context.Background(), ch, json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRecoveryUnderRandomDisconnects is the property behind the delivery
// guarantee: while publications flow, a subscriber whose connection is cut
// at random points and who resubscribes with its last offset and epoch ends
// up with every offset exactly once, in order. It holds in both encodings,
// over a stream of JSON and binary publications in turn.
func TestRecoveryUnderRandomDisconnects(t *testing.T) {
	for _, enc := range []protocol.Encoding{protocol.JSON, protocol.Protobuf} {
		t.Run(enc.String(), func(t *testing.T) { testRecoveryUnderRandomDisconnects(t, enc) })
	}
}

// publishMixed publishes publication i: JSON when i is odd, binary (four
// bytes) when it is even.
func publishMixed(n *herald.Node, ch string, i int) error {
	var err error
	if i%2 == 0 {
		_, err = n.PublishBinary(context.Background(), ch, []byte{0, byte(i), byte(i >> 8), 0xff})
	} else {
		_, err = n.Publish(context.Background(), ch, json.RawMessage(fmt.Sprintf(`{"i":%d}`, i)))
	}
	return err
}

func testRecoveryUnderRandomDisconnects(t *testing.T, enc protocol.Encoding) {
	for _, seed := range []int64{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewSource(seed))
			const total = 2000
			ts := startServer(t, herald.Config{Channels: herald.ChannelOptions{HistorySize: total}})
			const ch = "feed"

			var published atomic.Int64
			done, stop := make(chan struct{}), make(chan struct{})
			// A failure below ends the subtest: stop the publisher first,
			// so that it never reports on a finished test.
			defer func() {
				close(stop)
				<-done
			}()
			go func() {
				defer close(done)
				for i := 1; i <= total; i++ {
					select {
					case <-stop:
						return
					default:
					}
					if err := publishMixed(ts.node, ch, i); err != nil {
						t.Error(err)
						return
					}
					published.Store(int64(i))
					if i%10 == 0 {
						time.Sleep(time.Millisecond)
					}
				}
			}()

			var got []uint64
			var last uint64
			var epoch string
			reconnects := 0
			for {
				c := wstest.DialEncoding(t, ts.url, enc)
				c.Connect()
				fields := map[string]any{"channel": ch}
				if epoch != "" {
					fields["recover"], fields["offset"], fields["epoch"] = true, last, epoch
				}
				res := subscribe(t, c, fields)
				if res.err != nil {
					t.Fatal(res.err)
				}
				if epoch != "" && !res.Recovered {
					t.Fatalf("recovery from %d failed: %+v", last, res.SubscribeResult)
				}
				accept := func(off uint64) {
					if off <= last {
						return // a duplicate: the client drops it by offset
					}
					if off != last+1 {
						t.Fatalf("gap: offset %d after %d", off, last)
					}
					got = append(got, off)
					last = off
				}
				for _, p := range res.Publications {
					accept(p.Offset)
				}
				if epoch == "" {
					last = res.Offset // a first subscribe starts from the current position
					for i := uint64(1); i <= last; i++ {
						got = append(got, i) // history before the first subscribe counts as seen
					}
				}
				epoch = res.Epoch
				// Read a random number of publications, then cut the
				// connection without a close frame.
				want := rng.Intn(300)
				finished := last == total
				for n := 0; !finished && (n < want || published.Load() == total); n++ {
					m, err := c.NextPush("pub", 5*time.Second)
					if err != nil {
						t.Fatalf("reading: %v (last %d)", err, last)
					}
					accept(m.Offset)
					if last == total {
						finished = true
						break
					}
				}
				c.Conn.CloseNow()
				if finished {
					break
				}
				reconnects++
			}
			if len(got) != total {
				t.Fatalf("got %d offsets, want %d", len(got), total)
			}
			for i, off := range got {
				if off != uint64(i+1) {
					t.Fatalf("position %d holds offset %d", i, off)
				}
			}
			t.Logf("%d reconnects", reconnects)
		})
	}
}

// Publications racing a subscribe with recovery are neither lost nor
// duplicated: the reply carries what the client missed and the live stream
// continues right after it.
func TestRecoveryRacingPublications(t *testing.T) {
	ts := startServer(t, herald.Config{Channels: herald.ChannelOptions{HistorySize: 10000}})
	const ch = "race"
	publishN(t, ts.node, ch, 1, 10)
	c := ts.dial(t)
	first := subscribe(t, c, map[string]any{"channel": ch})
	epoch := first.Epoch
	c.Conn.CloseNow()

	stop := make(chan struct{})
	done := make(chan struct{})
	var next atomic.Int64
	next.Store(11)
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			i := next.Add(1) - 1
			_, _ = ts.node.Publish(context.Background(), ch, json.RawMessage(fmt.Sprintf(`{"i":%d}`, i)))
			time.Sleep(100 * time.Microsecond) // stay well inside the history window
		}
	}()
	last := uint64(10)
	for round := 0; round < 20; round++ {
		c := ts.dial(t)
		res := subscribe(t, c, map[string]any{"channel": ch, "recover": true, "offset": last, "epoch": epoch})
		if !res.Recovered {
			t.Fatalf("round %d: not recovered: %+v", round, res.SubscribeResult)
		}
		for _, p := range res.Publications {
			if p.Offset != last+1 {
				t.Fatalf("round %d: recovered offset %d after %d", round, p.Offset, last)
			}
			last = p.Offset
		}
		if res.Offset != last {
			t.Fatalf("round %d: reply offset %d, last recovered %d", round, res.Offset, last)
		}
		for k := 0; k < 20; k++ {
			m, err := c.NextPush("pub", 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if m.Offset != last+1 {
				t.Fatalf("round %d: live offset %d after %d", round, m.Offset, last)
			}
			last = m.Offset
		}
		c.Conn.CloseNow()
	}
	close(stop)
	<-done
}

func TestRecoveryRefusedWhenHistoryCannotCover(t *testing.T) {
	t.Run("epoch changed", func(t *testing.T) {
		ts := startServer(t, herald.Config{Channels: herald.ChannelOptions{HistorySize: 10}})
		publishN(t, ts.node, "c", 1, 3)
		c := ts.dial(t)
		res := subscribe(t, c, map[string]any{"channel": "c", "recover": true, "offset": 1, "epoch": "gone"})
		if res.Recovered || res.Offset != 3 || res.Epoch == "gone" || len(res.Publications) != 0 {
			t.Fatalf("%+v", res.SubscribeResult)
		}
	})
	t.Run("trimmed by size", func(t *testing.T) {
		ts := startServer(t, herald.Config{Channels: herald.ChannelOptions{HistorySize: 5}})
		publishN(t, ts.node, "c", 1, 2)
		c := ts.dial(t)
		epoch := subscribe(t, c, map[string]any{"channel": "c"}).Epoch
		c.Conn.CloseNow()
		publishN(t, ts.node, "c", 3, 12)
		c = ts.dial(t)
		res := subscribe(t, c, map[string]any{"channel": "c", "recover": true, "offset": 2, "epoch": epoch})
		if res.Recovered || res.Offset != 12 {
			t.Fatalf("%+v", res.SubscribeResult)
		}
	})
	t.Run("expired by TTL", func(t *testing.T) {
		ts := startServer(t, herald.Config{Channels: herald.ChannelOptions{HistorySize: 10, HistoryTTL: 500 * time.Millisecond}})
		publishN(t, ts.node, "c", 1, 2)
		c := ts.dial(t)
		epoch := subscribe(t, c, map[string]any{"channel": "c"}).Epoch
		c.Conn.CloseNow()
		time.Sleep(1200 * time.Millisecond)
		publishN(t, ts.node, "c", 3, 3)
		c = ts.dial(t)
		res := subscribe(t, c, map[string]any{"channel": "c", "recover": true, "offset": 2, "epoch": epoch})
		if res.Recovered || res.Epoch == epoch {
			t.Fatalf("%+v", res.SubscribeResult)
		}
	})
	t.Run("too many missed", func(t *testing.T) {
		ts := startServer(t, herald.Config{Channels: herald.ChannelOptions{HistorySize: 100, MaxRecover: 3}})
		publishN(t, ts.node, "c", 1, 1)
		c := ts.dial(t)
		epoch := subscribe(t, c, map[string]any{"channel": "c"}).Epoch
		c.Conn.CloseNow()
		publishN(t, ts.node, "c", 2, 5) // four missed
		c = ts.dial(t)
		res := subscribe(t, c, map[string]any{"channel": "c", "recover": true, "offset": 1, "epoch": epoch})
		if res.Recovered || len(res.Publications) != 0 {
			t.Fatalf("%+v", res.SubscribeResult)
		}
		// Exactly MaxRecover missed recovers.
		c.Conn.CloseNow()
		c = ts.dial(t)
		res = subscribe(t, c, map[string]any{"channel": "c", "recover": true, "offset": 2, "epoch": epoch})
		if !res.Recovered || len(res.Publications) != 3 {
			t.Fatalf("%+v", res.SubscribeResult)
		}
	})
	t.Run("recovery disabled", func(t *testing.T) {
		ts := startServer(t, herald.Config{Channels: herald.ChannelOptions{HistorySize: 10, NoRecover: true}})
		publishN(t, ts.node, "c", 1, 3)
		c := ts.dial(t)
		res := subscribe(t, c, map[string]any{"channel": "c", "recover": true, "offset": 1, "epoch": "x"})
		if res.Recovered || res.Recoverable {
			t.Fatalf("%+v", res.SubscribeResult)
		}
	})
}

// A node restart with the memory broker loses history: the epoch changes
// and a recovering client is told recovered:false.
func TestRecoveryAcrossMemoryBrokerRestart(t *testing.T) {
	ts := startServer(t, herald.Config{Channels: herald.ChannelOptions{HistorySize: 10}})
	publishN(t, ts.node, "c", 1, 3)
	c := ts.dial(t)
	before := subscribe(t, c, map[string]any{"channel": "c"})
	ts2 := startServer(t, herald.Config{Channels: herald.ChannelOptions{HistorySize: 10}})
	publishN(t, ts2.node, "c", 1, 1)
	c2 := ts2.dial(t)
	res := subscribe(t, c2, map[string]any{"channel": "c", "recover": true, "offset": before.Offset, "epoch": before.Epoch})
	if res.Recovered || res.Epoch == before.Epoch {
		t.Fatalf("%+v", res.SubscribeResult)
	}
}

// A client claiming an offset the stream never reached is not trusted.
func TestRecoveryFromFutureOffset(t *testing.T) {
	ts := startServer(t, herald.Config{Channels: herald.ChannelOptions{HistorySize: 10}})
	publishN(t, ts.node, "c", 1, 2)
	c := ts.dial(t)
	epoch := subscribe(t, c, map[string]any{"channel": "c"}).Epoch
	c2 := ts.dial(t)
	res := subscribe(t, c2, map[string]any{"channel": "c", "recover": true, "offset": 99, "epoch": epoch})
	if res.Recovered || res.Offset != 2 {
		t.Fatalf("%+v", res.SubscribeResult)
	}
}

// The server itself never sends a publication twice across a recovery:
// every offset a client receives, in replies and pushes, is new.
func TestRecoveryServerSendsNoDuplicates(t *testing.T) {
	ts := startServer(t, herald.Config{Channels: herald.ChannelOptions{HistorySize: 5000}})
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_, _ = ts.node.Publish(context.Background(), "d", json.RawMessage(fmt.Sprintf(`{"i":%d}`, i)))
			time.Sleep(50 * time.Microsecond)
		}
	}()
	defer func() { close(stop); <-done }()
	var last uint64
	epoch := ""
	for round := 0; round < 30; round++ {
		c := ts.dial(t)
		fields := map[string]any{"channel": "d"}
		if epoch != "" {
			fields["recover"], fields["offset"], fields["epoch"] = true, last, epoch
		}
		res := subscribe(t, c, fields)
		epoch = res.Epoch
		if round == 0 {
			last = res.Offset
		}
		for _, p := range res.Publications {
			if p.Offset != last+1 {
				t.Fatalf("round %d: reply offset %d after %d", round, p.Offset, last)
			}
			last = p.Offset
		}
		for k := 0; k < 5; k++ {
			m, err := c.NextPush("pub", 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if m.Offset != last+1 {
				t.Fatalf("round %d: push offset %d after %d (a duplicate or a gap)", round, m.Offset, last)
			}
			last = m.Offset
		}
		c.Conn.CloseNow()
	}
}

// When a subscribed channel's history expires and its stream starts over,
// the first publication of the new stream carries the new epoch.
func TestNewEpochAnnouncedOnFirstPublication(t *testing.T) {
	ts := startServer(t, herald.Config{Channels: herald.ChannelOptions{HistorySize: 10, HistoryTTL: 300 * time.Millisecond}})
	c := ts.dial(t)
	publishN(t, ts.node, "c", 1, 2)
	old := subscribe(t, c, map[string]any{"channel": "c"}).Epoch
	time.Sleep(700 * time.Millisecond)
	publishN(t, ts.node, "c", 3, 3)
	m, err := c.NextPush("pub", 5*time.Second)
	if err != nil || m.Offset != 1 || m.Epoch == "" || m.Epoch == old {
		t.Fatalf("pub %+v (old epoch %s) %v", m, old, err)
	}
}
