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

// TestDelivery runs the gap-filling suite against the shared NATS: a lost
// live message is a publication stored in the history stream directly,
// and history is changed there too.
func TestDelivery(t *testing.T) {
	url := sharedURL()
	needNATS(t, url)
	brokertest.RunDelivery(t, func(t *testing.T, check time.Duration) brokertest.DeliveryNode {
		prefix := testPrefix(t, url)
		b := newBroker(t, url, prefix, func(o *nats.Options) { o.PositionCheck = check })
		return brokertest.DeliveryNode{
			Broker:          b,
			PublishSilently: func(t *testing.T, ch string) { openRaw(t, url, prefix, ch).publishSilently(t) },
			Skip: func(t *testing.T, ch string, n int) {
				r := openRaw(t, url, prefix, ch)
				var seqs []uint64
				for range n {
					seqs = append(seqs, r.publishSilently(t))
				}
				for _, seq := range seqs[:n-1] { // the last one stays: it holds the offset
					if err := r.stream.DeleteMsg(context.Background(), seq); err != nil {
						t.Fatal(err)
					}
				}
			},
			Drop: func(t *testing.T, ch string) {
				r := openRaw(t, url, prefix, ch)
				if err := r.stream.Purge(context.Background(), jetstream.WithPurgeSubject(r.subject)); err != nil {
					t.Fatal(err)
				}
			},
		}
	})
}

func pubN(i int) *broker.Publication {
	return &broker.Publication{Data: json.RawMessage(`{"i":` + strconv.Itoa(i) + `}`)}
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

// Channel names with characters NATS subjects forbid work end to end, and
// do not collide with each other.
func TestChannelNamesEscaped(t *testing.T) {
	url := sharedURL()
	needNATS(t, url)
	prefix := testPrefix(t, url)
	b, h := newBroker(t, url, prefix), brokertest.NewLossRecorder()
	brokertest.Start(t, b, h)
	chans := []string{"a.b", "a.*", "a.>", "a=2Eb", "ünï:cödé", "a"}
	for _, ch := range chans {
		brokertest.Subscribe(t, b, ch)
	}
	for i, ch := range chans {
		brokertest.Publish(t, b, ch, i, brokertest.WithHistory)
		if err := b.AddPresence(context.Background(), ch, &broker.ClientInfo{Client: "c." + ch}); err != nil {
			t.Fatal(err)
		}
	}
	for _, ch := range chans {
		h.WaitInOrder(t, ch, 1)
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
	a, b, h := newBroker(t, url, prefix), newBroker(t, url, prefix), brokertest.NewLossRecorder()
	brokertest.Start(t, a, brokertest.NewRecorder())
	brokertest.Start(t, b, h)
	ch := "race"
	brokertest.Subscribe(t, b, ch)
	const each = 50
	var wg sync.WaitGroup
	for _, node := range []*nats.Broker{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if _, err := node.Publish(context.Background(), ch, pubN(i), brokertest.WithHistory); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	h.WaitInOrder(t, ch, 4*each)
}
