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
	"github.com/heraldrt/herald/internal/streamtest"
)

// TestFallbackRecoveryUnderRandomCuts is TestRecoveryUnderRandomDisconnects
// on the fallback transports: a subscriber whose stream is cut at random
// points while publications flow, and who resubscribes on a new stream with
// its last offset and epoch, ends up with every offset exactly once, in
// order.
func TestFallbackRecoveryUnderRandomCuts(t *testing.T) {
	fallbacks(t, func(t *testing.T, kind string) {
		rng := rand.New(rand.NewSource(7))
		const total = 1000
		ts := startServer(t, herald.Config{Channels: herald.ChannelOptions{HistorySize: total}})
		const ch = "feed"
		var published atomic.Int64
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := 1; i <= total; i++ {
				if _, err := ts.node.Publish(context.Background(), ch, json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))); err != nil {
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
		cuts := 0
		for {
			c := streamtest.Open(t, ts.base, kind)
			c.Connect()
			cmd := map[string]any{"op": "subscribe", "channel": ch}
			if epoch != "" {
				cmd["recover"], cmd["offset"], cmd["epoch"] = true, last, epoch
			}
			r := c.Call(cmd)
			if r.Error != nil {
				t.Fatal(r.Error)
			}
			var res struct {
				Offset       uint64
				Epoch        string
				Recovered    bool
				Publications []struct{ Offset uint64 }
			}
			if err := json.Unmarshal(r.Result, &res); err != nil {
				t.Fatal(err)
			}
			if epoch != "" && !res.Recovered {
				t.Fatalf("recovery from %d failed: %s", last, r.Result)
			}
			accept := func(off uint64) {
				if off <= last {
					return
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
				last = res.Offset
				for i := uint64(1); i <= last; i++ {
					got = append(got, i)
				}
			}
			epoch = res.Epoch
			want := rng.Intn(200)
			finished := last == total
			for n := 0; !finished && (n < want || published.Load() == total); n++ {
				m, err := c.NextPush("pub", 5*time.Second)
				if err != nil {
					t.Fatalf("reading: %v (last %d)", err, last)
				}
				accept(m.Offset)
				finished = last == total
			}
			c.Cut()
			if finished {
				break
			}
			cuts++
		}
		<-done
		if len(got) != total {
			t.Fatalf("got %d offsets, want %d", len(got), total)
		}
		for i, off := range got {
			if off != uint64(i+1) {
				t.Fatalf("position %d holds offset %d", i, off)
			}
		}
		t.Logf("%d cuts", cuts)
	})
}
