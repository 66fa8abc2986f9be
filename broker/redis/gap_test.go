package redis_test

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/broker/brokertest"
	"github.com/heraldrt/herald/broker/redis"
)

// lossRecorder is a Recorder that also implements broker.StateLossHandler.
type lossRecorder struct {
	*brokertest.Recorder
	mu     sync.Mutex
	losses []string
}

var _ broker.StateLossHandler = (*lossRecorder)(nil)

func newLossRecorder() *lossRecorder { return &lossRecorder{Recorder: brokertest.NewRecorder()} }

func (r *lossRecorder) HandleStateLoss(channel string) {
	r.mu.Lock()
	r.losses = append(r.losses, channel)
	r.mu.Unlock()
}

func (r *lossRecorder) Losses() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.losses...)
}

var hist = broker.PublishOptions{HistorySize: 100, HistoryTTL: time.Minute}

func start(t *testing.T, b *redis.Broker, h broker.EventHandler) {
	t.Helper()
	if err := b.Start(context.Background(), h); err != nil {
		t.Fatalf("Start: %v", err)
	}
}

func publish(t *testing.T, b *redis.Broker, ch string, i int, o broker.PublishOptions) broker.PublishResult {
	t.Helper()
	res, err := b.Publish(context.Background(), ch, &broker.Publication{Data: json.RawMessage(`{"i":` + itoa(i) + `}`)}, o)
	if err != nil {
		t.Fatalf("Publish %d: %v", i, err)
	}
	return res
}

func itoa(i int) string { return strconv.Itoa(i) }

// checkInOrder fails unless the channel got offsets 1..n, each once, in order.
func checkInOrder(t *testing.T, h *lossRecorder, ch string, n int) {
	t.Helper()
	h.WaitPubs(t, 5*time.Second, ch, n)
	time.Sleep(50 * time.Millisecond)
	pubs := h.Pubs(ch)
	if len(pubs) != n {
		t.Fatalf("delivered %d publications, want %d", len(pubs), n)
	}
	for i, p := range pubs {
		if p.Offset != uint64(i+1) {
			t.Fatalf("position %d holds offset %d: want 1..%d once each, in order", i, p.Offset, n)
		}
	}
}

// publishSilently makes a publication the way publish.lua does but sends
// its pub/sub message nowhere: what a lost pub/sub message looks like.
func publishSilently(t *testing.T, url, prefix, ch string) {
	t.Helper()
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{hostOf(url)}, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tag := prefix + ":{" + ch + "}"
	err = rueidis.NewLuaScript(redis.PublishScript).Exec(context.Background(), c,
		[]string{tag + ":m", tag + ":s", tag + ":m"},
		[]string{`{"data":{"silent":true}}`, "100", "60000", "unused", "0", prefix + ":nowhere"}).Error()
	if err != nil {
		t.Fatal(err)
	}
}

// rawDo runs one command on the Redis at url.
func rawDo(t *testing.T, url string, args ...string) {
	t.Helper()
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{hostOf(url)}, DisableCache: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Do(context.Background(), c.B().Arbitrary(args...).Build()).Error(); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
}

// A publication whose pub/sub message was lost is delivered from the
// stream, in its place, when the next one arrives.
func TestGapFilledFromHistory(t *testing.T) {
	url := sharedURL()
	needRedis(t, url)
	prefix := testPrefix(t, url)
	b, h := newBroker(t, url, prefix), newLossRecorder()
	start(t, b, h)
	ch := "gap"
	if err := b.Subscribe(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	publish(t, b, ch, 1, hist)
	publishSilently(t, url, prefix, ch) // 2
	publishSilently(t, url, prefix, ch) // 3
	publish(t, b, ch, 4, hist)
	checkInOrder(t, h, ch, 4)
	if l := h.Losses(); len(l) != 0 {
		t.Fatalf("state loss reported for a gap history could fill: %v", l)
	}
}

// A gap history no longer holds is reported to the StateLossHandler, and
// delivery goes on from the stream's present.
func TestStateLossWhenHistoryTrimmed(t *testing.T) {
	url := sharedURL()
	needRedis(t, url)
	prefix := testPrefix(t, url)
	b, h := newBroker(t, url, prefix), newLossRecorder()
	start(t, b, h)
	ch := "trimmed"
	if err := b.Subscribe(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	publish(t, b, ch, 1, hist)
	// Offsets 2..9 happened and were trimmed before this node saw them.
	rawDo(t, url, "HSET", prefix+":{"+ch+"}:m", "s", "9")
	publish(t, b, ch, 10, hist)
	h.WaitPubs(t, 5*time.Second, ch, 2)
	if p := h.Pubs(ch); p[0].Offset != 1 || p[1].Offset != 10 {
		t.Fatalf("offsets %d, %d", p[0].Offset, p[1].Offset)
	}
	if l := h.Losses(); len(l) != 1 || l[0] != ch {
		t.Fatalf("losses %v, want one for %s", l, ch)
	}
}

// A stream that Redis lost starts again in a new epoch; the node is told.
func TestStateLossOnNewEpoch(t *testing.T) {
	url := sharedURL()
	needRedis(t, url)
	prefix := testPrefix(t, url)
	b, h := newBroker(t, url, prefix), newLossRecorder()
	start(t, b, h)
	ch := "epoch"
	if err := b.Subscribe(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	first := publish(t, b, ch, 1, hist)
	rawDo(t, url, "DEL", prefix+":{"+ch+"}:m", prefix+":{"+ch+"}:s")
	next := publish(t, b, ch, 2, hist)
	if next.Epoch == first.Epoch || next.Offset != 1 {
		t.Fatalf("after the stream was lost: %+v, before %+v", next.StreamPosition, first.StreamPosition)
	}
	h.WaitPubs(t, 5*time.Second, ch, 2)
	if l := h.Losses(); len(l) != 1 {
		t.Fatalf("losses %v, want one", l)
	}
}
