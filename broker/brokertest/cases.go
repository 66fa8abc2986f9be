package brokertest

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/heraldrt/herald/broker"
)

const wait = 5 * time.Second

func testDelivers(t *testing.T, b broker.Broker, h *Recorder) {
	ch := channel(t)
	if err := b.Subscribe(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	mustPublish(t, b, ch, pub(1), broker.PublishOptions{})
	h.Wait(t, wait, "the publication", func(r *Recorder) bool { return len(r.pubs[ch]) == 1 })
	if got := h.Pubs(ch)[0]; string(got.Data) != `{"i":1}` {
		t.Fatalf("got %s", got.Data)
	}
	// A channel nobody subscribed to is not delivered.
	other := channel(t) + ":other"
	mustPublish(t, b, other, pub(2), broker.PublishOptions{})
	mustPublish(t, b, ch, pub(3), broker.PublishOptions{})
	h.Wait(t, wait, "the second publication", func(r *Recorder) bool { return len(r.pubs[ch]) == 2 })
	if len(h.Pubs(other)) != 0 {
		t.Fatal("delivered a channel this node did not subscribe to")
	}
}

func testUnsubscribe(t *testing.T, b broker.Broker, h *Recorder) {
	ch := channel(t)
	marker := ch + ":marker"
	for _, c := range []string{ch, marker} {
		if err := b.Subscribe(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Subscribe(context.Background(), ch); err != nil { // twice is once
		t.Fatal(err)
	}
	if err := b.Unsubscribe(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	mustPublish(t, b, ch, pub(1), broker.PublishOptions{})
	mustPublish(t, b, marker, pub(2), broker.PublishOptions{})
	h.Wait(t, wait, "the marker", func(r *Recorder) bool { return len(r.pubs[marker]) == 1 })
	time.Sleep(50 * time.Millisecond)
	if len(h.Pubs(ch)) != 0 {
		t.Fatal("delivered after Unsubscribe")
	}
}

func testOffsets(t *testing.T, b broker.Broker, _ *Recorder) {
	ch := channel(t)
	var epoch string
	for i := 1; i <= 20; i++ {
		res := mustPublish(t, b, ch, pub(i), withHistory)
		if res.Offset != uint64(i) {
			t.Fatalf("publication %d got offset %d", i, res.Offset)
		}
		if i == 1 {
			epoch = res.Epoch
		}
		if res.Epoch == "" || res.Epoch != epoch {
			t.Fatalf("epoch changed from %q to %q without history loss", epoch, res.Epoch)
		}
	}
}

func testConcurrentOffsets(t *testing.T, b broker.Broker, _ *Recorder) {
	ch := channel(t)
	const workers, each = 8, 25
	var mu sync.Mutex
	seen := map[uint64]bool{}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				res, err := b.Publish(context.Background(), ch, pub(i), withHistory)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				if seen[res.Offset] {
					errs <- errors.New("offset given twice: " + strconv.FormatUint(res.Offset, 10))
				}
				seen[res.Offset] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := uint64(1); i <= workers*each; i++ {
		if !seen[i] {
			t.Fatalf("offset %d missing: offsets must be 1..%d without gaps", i, workers*each)
		}
	}
}

func testOrder(t *testing.T, b broker.Broker, h *Recorder) {
	ch := channel(t)
	if err := b.Subscribe(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	const n = 200
	for i := 1; i <= n; i++ {
		mustPublish(t, b, ch, pub(i), withHistory)
	}
	h.Wait(t, wait, "all publications", func(r *Recorder) bool { return len(r.pubs[ch]) == n })
	for i, p := range h.Pubs(ch) {
		if p.Offset != uint64(i+1) || string(p.Data) != string(data(i+1)) {
			t.Fatalf("position %d: offset %d data %s", i, p.Offset, p.Data)
		}
	}
}

func testHistory(t *testing.T, b broker.Broker, _ *Recorder) {
	ch := channel(t)
	var epoch string
	for i := 1; i <= 10; i++ {
		epoch = mustPublish(t, b, ch, pub(i), withHistory).Epoch
	}
	ctx := context.Background()
	check := func(name string, o broker.HistoryOptions, want ...int) {
		t.Helper()
		res, err := b.History(ctx, ch, o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.Position.Offset != 10 || res.Position.Epoch != epoch {
			t.Fatalf("%s: position %+v, want 10/%s", name, res.Position, epoch)
		}
		if len(res.Publications) != len(want) {
			t.Fatalf("%s: %d publications, want %d", name, len(res.Publications), len(want))
		}
		for i, p := range res.Publications {
			if p.Offset != uint64(want[i]) || string(p.Data) != string(data(want[i])) {
				t.Fatalf("%s: item %d is offset %d, want %d", name, i, p.Offset, want[i])
			}
		}
	}
	check("position only", broker.HistoryOptions{})
	check("all", broker.HistoryOptions{Limit: -1}, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
	check("limit", broker.HistoryOptions{Limit: 3}, 1, 2, 3)
	check("reverse", broker.HistoryOptions{Limit: 3, Reverse: true}, 10, 9, 8)
	check("since", broker.HistoryOptions{Limit: -1, Since: &broker.StreamPosition{Offset: 7, Epoch: epoch}}, 8, 9, 10)
	check("since, limit", broker.HistoryOptions{Limit: 2, Since: &broker.StreamPosition{Offset: 3, Epoch: epoch}}, 4, 5)
	check("since top", broker.HistoryOptions{Limit: -1, Since: &broker.StreamPosition{Offset: 10, Epoch: epoch}})
	check("before, reverse", broker.HistoryOptions{Limit: 2, Reverse: true, Since: &broker.StreamPosition{Offset: 4, Epoch: epoch}}, 3, 2)
	empty, err := b.History(ctx, ch+":none", broker.HistoryOptions{Limit: -1})
	if err != nil || empty.Position.Offset != 0 || len(empty.Publications) != 0 {
		t.Fatalf("empty stream: %+v %v", empty, err)
	}
}

func testHistorySize(t *testing.T, b broker.Broker, _ *Recorder) {
	ch := channel(t)
	o := broker.PublishOptions{HistorySize: 5, HistoryTTL: time.Minute}
	for i := 1; i <= 12; i++ {
		mustPublish(t, b, ch, pub(i), o)
	}
	res, err := b.History(context.Background(), ch, broker.HistoryOptions{Limit: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Publications) != 5 || res.Publications[0].Offset != 8 || res.Position.Offset != 12 {
		t.Fatalf("want offsets 8..12 of 12, got %d publications from %d, position %d",
			len(res.Publications), res.Publications[0].Offset, res.Position.Offset)
	}
	// Asking from before the oldest kept returns what is kept: the caller
	// sees the gap by comparing the first offset with its own.
	res, _ = b.History(context.Background(), ch, broker.HistoryOptions{Limit: -1, Since: &broker.StreamPosition{Offset: 2, Epoch: res.Position.Epoch}})
	if len(res.Publications) == 0 || res.Publications[0].Offset != 8 {
		t.Fatalf("since a trimmed offset: %+v", res.Publications)
	}
}

func testHistoryEpochMismatch(t *testing.T, b broker.Broker, _ *Recorder) {
	ch := channel(t)
	mustPublish(t, b, ch, pub(1), withHistory)
	res, err := b.History(context.Background(), ch, broker.HistoryOptions{Limit: -1, Since: &broker.StreamPosition{Offset: 0, Epoch: "not-the-epoch"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Publications) != 0 || res.Position.Offset != 1 || res.Position.Epoch == "not-the-epoch" {
		t.Fatalf("epoch mismatch must return the position and nothing else: %+v", res)
	}
}

func testHistoryTTL(t *testing.T, b broker.Broker, _ *Recorder) {
	ch := channel(t)
	o := broker.PublishOptions{HistorySize: 10, HistoryTTL: time.Second}
	first := mustPublish(t, b, ch, pub(1), o)
	time.Sleep(2500 * time.Millisecond)
	res, err := b.History(context.Background(), ch, broker.HistoryOptions{Limit: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Publications) != 0 {
		t.Fatalf("history outlived its TTL: %+v", res.Publications)
	}
	next := mustPublish(t, b, ch, pub(2), o)
	if next.Epoch == first.Epoch && next.Offset != 2 {
		t.Fatalf("same epoch %q but offset %d: offsets must not restart within an epoch", next.Epoch, next.Offset)
	}
	if next.Epoch == first.Epoch {
		t.Fatalf("history expired but the epoch %q did not change", first.Epoch)
	}
}

func testNoHistory(t *testing.T, b broker.Broker, h *Recorder) {
	ch := channel(t)
	if err := b.Subscribe(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	res := mustPublish(t, b, ch, pub(1), broker.PublishOptions{})
	if res.Offset != 0 || res.Epoch != "" {
		t.Fatalf("a channel without history got position %+v", res.StreamPosition)
	}
	h.Wait(t, wait, "the publication", func(r *Recorder) bool { return len(r.pubs[ch]) == 1 })
}

func testIdempotent(t *testing.T, b broker.Broker, h *Recorder) {
	ch := channel(t)
	if err := b.Subscribe(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	o := withHistory
	o.IdempotencyKey = "k1"
	o.IdempotencyWindow = time.Second
	first := mustPublish(t, b, ch, pub(1), o)
	again := mustPublish(t, b, ch, pub(2), o)
	if !again.Duplicate || again.StreamPosition != first.StreamPosition || first.Duplicate {
		t.Fatalf("first %+v, again %+v", first, again)
	}
	o.IdempotencyKey = "k2"
	other := mustPublish(t, b, ch, pub(3), o)
	if other.Duplicate || other.Offset != first.Offset+1 {
		t.Fatalf("a new key must publish: %+v", other)
	}
	time.Sleep(1500 * time.Millisecond)
	o.IdempotencyKey = "k1"
	after := mustPublish(t, b, ch, pub(4), o)
	if after.Duplicate || after.Offset != other.Offset+1 {
		t.Fatalf("a key past its window must publish again: %+v", after)
	}
	h.Wait(t, wait, "three publications", func(r *Recorder) bool { return len(r.pubs[ch]) == 3 })
	time.Sleep(50 * time.Millisecond)
	if got := h.Pubs(ch); len(got) != 3 {
		t.Fatalf("delivered %d publications, want 3", len(got))
	}
}

func testControl(t *testing.T, b broker.Broker, h *Recorder) {
	msg, _ := json.Marshal(map[string]string{"op": "test"})
	if err := b.PublishControl(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	h.Wait(t, wait, "the control message", func(r *Recorder) bool {
		return len(r.controls) == 1 && string(r.controls[0]) == string(msg)
	})
}

func testClosed(t *testing.T, b broker.Broker, _ *Recorder) {
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(context.Background(), channel(t), pub(1), withHistory); err == nil {
		t.Fatal("Publish after Close succeeded")
	}
}

func testJoinLeave(t *testing.T, b broker.Broker, h *Recorder) {
	ch := channel(t)
	ctx := context.Background()
	// Not subscribed: nothing arrives.
	if err := b.PublishJoin(ctx, ch, &broker.ClientInfo{Client: "early"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Subscribe(ctx, ch); err != nil {
		t.Fatal(err)
	}
	if err := b.PublishJoin(ctx, ch, &broker.ClientInfo{Client: "c1", User: "u1"}); err != nil {
		t.Fatal(err)
	}
	if err := b.PublishLeave(ctx, ch, &broker.ClientInfo{Client: "c1", User: "u1"}); err != nil {
		t.Fatal(err)
	}
	want := []string{"join:" + ch + ":c1", "leave:" + ch + ":c1"}
	h.Wait(t, wait, "join and leave", func(r *Recorder) bool { return len(r.presence) >= 2 })
	h.mu.Lock()
	got := append([]string(nil), h.presence...)
	h.mu.Unlock()
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func testPresence(t *testing.T, b broker.Broker, _ *Recorder) {
	ps, ok := b.(broker.PresenceStore)
	if !ok {
		t.Skip("this broker keeps no presence")
	}
	ch := channel(t)
	ctx := context.Background()
	for _, c := range []string{"c1", "c2"} {
		if err := ps.AddPresence(ctx, ch, &broker.ClientInfo{Client: c, User: "u-" + c, Data: json.RawMessage(`{"n":1}`)}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ps.Presence(ctx, ch)
	if err != nil || len(got) != 2 || got["c1"].User != "u-c1" || string(got["c2"].Data) != `{"n":1}` {
		t.Fatalf("presence %+v %v", got, err)
	}
	if err := ps.RemovePresence(ctx, ch, "c1"); err != nil {
		t.Fatal(err)
	}
	if err := ps.RemovePresence(ctx, ch, "absent"); err != nil {
		t.Fatal(err)
	}
	got, _ = ps.Presence(ctx, ch)
	if len(got) != 1 || got["c2"] == nil {
		t.Fatalf("after remove: %+v", got)
	}
	if empty, err := ps.Presence(ctx, ch+":none"); err != nil || len(empty) != 0 {
		t.Fatalf("empty channel: %+v %v", empty, err)
	}
}
