package nats_test

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/broker/brokertest"
	"github.com/heraldrt/herald/broker/nats"
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

func start(t *testing.T, b *nats.Broker, h broker.EventHandler) {
	t.Helper()
	if err := b.Start(context.Background(), h); err != nil {
		t.Fatalf("Start: %v", err)
	}
}

func subscribe(t *testing.T, b *nats.Broker, ch string) {
	t.Helper()
	if err := b.Subscribe(context.Background(), ch); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
}

func pubN(i int) *broker.Publication {
	return &broker.Publication{Data: json.RawMessage(`{"i":` + strconv.Itoa(i) + `}`)}
}

func publish(t *testing.T, b *nats.Broker, ch string, i int, o broker.PublishOptions) broker.PublishResult {
	t.Helper()
	res, err := b.Publish(context.Background(), ch, pubN(i), o)
	if err != nil {
		t.Fatalf("Publish %d: %v", i, err)
	}
	return res
}

// eventually waits until cond holds, or fails the test after timeout.
// (Recorder.Wait runs its condition under the recorder's lock, where
// Recorder.Pubs cannot be called.)
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkInOrder fails unless the channel got offsets 1..n, each once, in order.
func checkInOrder(t *testing.T, h *lossRecorder, ch string, n int) {
	t.Helper()
	eventually(t, 5*time.Second, "every publication", func() bool { return len(h.Pubs(ch)) >= n })
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

// raw is a plain JetStream client on the broker's history stream, for
// tests that change history behind the broker's back. The channels these
// tests use are plain names: their subject token is the name itself.
type raw struct {
	nc      *natsgo.Conn
	js      jetstream.JetStream
	stream  jetstream.Stream
	subject string
}

func openRaw(t *testing.T, url, prefix, ch string) *raw {
	t.Helper()
	nc, err := natsgo.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	s, err := js.Stream(context.Background(), prefix+"_history")
	if err != nil {
		t.Fatal(err)
	}
	return &raw{nc: nc, js: js, stream: s, subject: prefix + ".h." + ch}
}

// publishSilently stores the channel's next publication the way the broker
// does (the headers the package documents) but sends nothing live: what
// a lost live message looks like. It returns the stream sequence.
func (r *raw) publishSilently(t *testing.T) uint64 {
	t.Helper()
	ctx := context.Background()
	last, err := r.stream.GetLastMsgForSubject(ctx, r.subject)
	if err != nil {
		t.Fatal(err)
	}
	off, _ := strconv.ParseUint(last.Header.Get("Herald-Offset"), 10, 64)
	m := natsgo.NewMsg(r.subject)
	m.Data = []byte(`{"data":{"silent":true}}`)
	m.Header.Set("Herald-Offset", strconv.FormatUint(off+1, 10))
	m.Header.Set("Herald-Epoch", last.Header.Get("Herald-Epoch"))
	m.Header.Set("Herald-Size", "100")
	m.Header.Set("Herald-TTL", "60000")
	ack, err := r.js.PublishMsg(ctx, m, jetstream.WithExpectLastSequencePerSubject(last.Sequence))
	if err != nil {
		t.Fatal(err)
	}
	return ack.Sequence
}

// A publication whose live message was lost is delivered from history, in
// its place, when the next one arrives.
func TestGapFilledFromHistory(t *testing.T) {
	url := sharedURL()
	needNATS(t, url)
	prefix := testPrefix(t, url)
	b, h := newBroker(t, url, prefix), newLossRecorder()
	start(t, b, h)
	ch := "gap"
	subscribe(t, b, ch)
	publish(t, b, ch, 1, hist)
	r := openRaw(t, url, prefix, ch)
	r.publishSilently(t) // 2
	r.publishSilently(t) // 3
	publish(t, b, ch, 4, hist)
	checkInOrder(t, h, ch, 4)
	if l := h.Losses(); len(l) != 0 {
		t.Fatalf("state loss reported for a gap history could fill: %v", l)
	}
}

// A gap history no longer holds is reported to the StateLossHandler, and
// delivery goes on with what history has.
func TestStateLossWhenHistoryTrimmed(t *testing.T) {
	url := sharedURL()
	needNATS(t, url)
	prefix := testPrefix(t, url)
	b, h := newBroker(t, url, prefix), newLossRecorder()
	start(t, b, h)
	ch := "trimmed"
	subscribe(t, b, ch)
	publish(t, b, ch, 1, hist)
	r := openRaw(t, url, prefix, ch)
	var seqs []uint64
	for i := 2; i <= 9; i++ {
		seqs = append(seqs, r.publishSilently(t))
	}
	for _, seq := range seqs[:len(seqs)-1] { // 2..8 are gone, 9 is kept
		if err := r.stream.DeleteMsg(context.Background(), seq); err != nil {
			t.Fatal(err)
		}
	}
	publish(t, b, ch, 10, hist)
	eventually(t, 5*time.Second, "offset 10", func() bool { return len(h.Pubs(ch)) == 3 })
	if p := h.Pubs(ch); p[0].Offset != 1 || p[1].Offset != 9 || p[2].Offset != 10 {
		t.Fatalf("offsets %d, %d, %d; want 1, 9, 10", p[0].Offset, p[1].Offset, p[2].Offset)
	}
	if l := h.Losses(); len(l) != 1 || l[0] != ch {
		t.Fatalf("losses %v, want one for %s", l, ch)
	}
}

// A channel whose history was lost starts again in a new epoch; the node
// is told.
func TestStateLossOnNewEpoch(t *testing.T) {
	url := sharedURL()
	needNATS(t, url)
	prefix := testPrefix(t, url)
	b, h := newBroker(t, url, prefix), newLossRecorder()
	start(t, b, h)
	ch := "epoch"
	subscribe(t, b, ch)
	first := publish(t, b, ch, 1, hist)
	r := openRaw(t, url, prefix, ch)
	if err := r.stream.Purge(context.Background(), jetstream.WithPurgeSubject(r.subject)); err != nil {
		t.Fatal(err)
	}
	next := publish(t, b, ch, 2, hist)
	if next.Epoch == first.Epoch || next.Offset != 1 {
		t.Fatalf("after history was lost: %+v, before %+v", next.StreamPosition, first.StreamPosition)
	}
	eventually(t, 5*time.Second, "the new epoch's publication", func() bool { return len(h.Pubs(ch)) == 2 })
	if l := h.Losses(); len(l) != 1 {
		t.Fatalf("losses %v, want one", l)
	}
}

// Channel names with characters NATS subjects forbid work end to end, and
// do not collide with each other.
func TestChannelNamesEscaped(t *testing.T) {
	url := sharedURL()
	needNATS(t, url)
	prefix := testPrefix(t, url)
	b, h := newBroker(t, url, prefix), newLossRecorder()
	start(t, b, h)
	chans := []string{"a.b", "a.*", "a.>", "a=2Eb", "ünï:cödé", "a"}
	for _, ch := range chans {
		subscribe(t, b, ch)
	}
	for i, ch := range chans {
		publish(t, b, ch, i, hist)
		if err := b.AddPresence(context.Background(), ch, &broker.ClientInfo{Client: "c." + ch}); err != nil {
			t.Fatal(err)
		}
	}
	for _, ch := range chans {
		checkInOrder(t, h, ch, 1)
		res, err := b.History(context.Background(), ch, broker.HistoryOptions{Limit: -1})
		if err != nil || len(res.Publications) != 1 || res.Position.Offset != 1 {
			t.Fatalf("history of %q: %+v %v", ch, res, err)
		}
		p, err := b.Presence(context.Background(), ch)
		if err != nil || len(p) != 1 || p["c."+ch] == nil {
			t.Fatalf("presence of %q: %+v %v", ch, p, err)
		}
	}
}

// Concurrent publishes from two nodes get contiguous offsets, and a node
// subscribed to the channel gets every one, once, in order.
func TestTwoNodesPublishConcurrently(t *testing.T) {
	url := sharedURL()
	needNATS(t, url)
	prefix := testPrefix(t, url)
	a, b, h := newBroker(t, url, prefix), newBroker(t, url, prefix), newLossRecorder()
	start(t, a, brokertest.NewRecorder())
	start(t, b, h)
	ch := "race"
	subscribe(t, b, ch)
	const each = 50
	var wg sync.WaitGroup
	for _, node := range []*nats.Broker{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if _, err := node.Publish(context.Background(), ch, pubN(i), hist); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	checkInOrder(t, h, ch, 4*each)
}
