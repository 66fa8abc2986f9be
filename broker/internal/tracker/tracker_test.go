package tracker

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/broker/brokertest"
	"github.com/heraldrt/herald/broker/internal/lifecycle"
)

// fakeHistory is one channel's history in memory: its epoch, its newest
// offset and the publications it still holds.
type fakeHistory struct {
	mu    sync.Mutex
	epoch string
	head  uint64
	held  map[uint64]*broker.Publication
	err   error // what every read fails with, when set
	reads int
}

func newFakeHistory() *fakeHistory {
	return &fakeHistory{epoch: "e1", held: map[uint64]*broker.Publication{}}
}

// store appends the next publication and returns it, as the live feed
// would carry it.
func (f *fakeHistory) store() *broker.Publication {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.head++
	p := &broker.Publication{Offset: f.head}
	f.held[f.head] = p
	return p
}

// trim drops the publications at offsets from..to.
func (f *fakeHistory) trim(from, to uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for o := from; o <= to; o++ {
		delete(f.held, o)
	}
}

// restart starts the history again in epoch, empty.
func (f *fakeHistory) restart(epoch string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.epoch, f.head, f.held = epoch, 0, map[uint64]*broker.Publication{}
}

func (f *fakeHistory) fail(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

func (f *fakeHistory) Head(context.Context, string) (Position, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.err != nil {
		return Position{}, f.err
	}
	return Position{Epoch: f.epoch, Offset: f.head, Seq: f.head}, nil
}

func (f *fakeHistory) Read(_ context.Context, _ string, after Position, upTo uint64) (Position, []Entry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.err != nil {
		return Position{}, nil, f.err
	}
	head := Position{Epoch: f.epoch, Offset: f.head, Seq: f.head}
	if upTo == 0 || upTo > f.head {
		upTo = f.head
	}
	var out []Entry
	for o := after.Offset + 1; o <= upTo; o++ {
		if p := f.held[o]; p != nil {
			out = append(out, Entry{Pub: p, Seq: o})
		}
	}
	return head, out, nil
}

// setup returns a started tracker on a fresh fake history, with one
// channel "ch" subscribed, and what it delivers to.
func setup(t *testing.T) (*Tracker, *fakeHistory, *brokertest.LossRecorder, *lifecycle.Lifecycle) {
	t.Helper()
	f, h := newFakeHistory(), brokertest.NewLossRecorder()
	life := lifecycle.New("test", time.Second)
	t.Cleanup(func() { life.Close() })
	tr := New(Config{Name: "test broker", Service: "Test", History: f, Life: life, Logger: slog.New(slog.DiscardHandler)})
	if err := tr.Start(h); err != nil {
		t.Fatal(err)
	}
	if err := tr.Subscribe(context.Background(), "ch", noListen); err != nil {
		t.Fatal(err)
	}
	return tr, f, h, life
}

func noListen(context.Context) (func(context.Context), error) { return nil, nil }

// live delivers p as the live feed would.
func live(t *testing.T, tr *Tracker, f *fakeHistory, p *broker.Publication) {
	t.Helper()
	c := tr.Channel("ch")
	if c == nil {
		t.Fatal("ch is not subscribed")
	}
	c.Deliver(p, f.epoch, p.Offset)
}

// offsets returns the offsets delivered on ch, in order.
func offsets(h *brokertest.LossRecorder) []uint64 {
	var out []uint64
	for _, p := range h.Pubs("ch") {
		out = append(out, p.Offset)
	}
	return out
}

func check(t *testing.T, h *brokertest.LossRecorder, want []uint64, losses int) {
	t.Helper()
	if got := offsets(h); !slices.Equal(got, want) {
		t.Fatalf("delivered offsets %v, want %v", got, want)
	}
	if l := h.Losses(); len(l) != losses {
		t.Fatalf("%d state losses (%v), want %d", len(l), l, losses)
	}
}

func TestInOrderDelivery(t *testing.T) {
	tr, f, h, _ := setup(t)
	for range 3 {
		live(t, tr, f, f.store())
	}
	check(t, h, []uint64{1, 2, 3}, 0)
	if f.reads != 1 { // the head read by Subscribe
		t.Fatalf("%d history reads for in-order delivery, want 1", f.reads)
	}
}

func TestDuplicateDropped(t *testing.T) {
	tr, f, h, _ := setup(t)
	p := f.store()
	live(t, tr, f, p)
	live(t, tr, f, p)
	check(t, h, []uint64{1}, 0)
}

func TestNoHistoryDeliveredAsIs(t *testing.T) {
	tr, _, h, _ := setup(t)
	tr.Channel("ch").Deliver(&broker.Publication{}, "", 0)
	tr.Channel("ch").Deliver(&broker.Publication{}, "", 0)
	if n := len(h.Pubs("ch")); n != 2 {
		t.Fatalf("%d publications without history delivered, want 2", n)
	}
}

func TestGapFilledFromHistory(t *testing.T) {
	tr, f, h, _ := setup(t)
	live(t, tr, f, f.store())
	f.store() // 2, lost live
	f.store() // 3, lost live
	live(t, tr, f, f.store())
	check(t, h, []uint64{1, 2, 3, 4}, 0)
}

// A gap that history no longer holds is one loss, however long.
func TestUnfillableGapIsOneLoss(t *testing.T) {
	tr, f, h, _ := setup(t)
	live(t, tr, f, f.store())
	for range 8 {
		f.store()
	}
	f.trim(2, 8) // 9 is still held
	live(t, tr, f, f.store())
	check(t, h, []uint64{1, 9, 10}, 1)
}

func TestHistoryUnreachableIsLoss(t *testing.T) {
	tr, f, h, _ := setup(t)
	live(t, tr, f, f.store())
	f.store()
	p := f.store()
	f.fail(errors.New("down"))
	live(t, tr, f, p)
	check(t, h, []uint64{1, 3}, 1)
}

func TestEpochChangeIsLoss(t *testing.T) {
	tr, f, h, _ := setup(t)
	live(t, tr, f, f.store())
	live(t, tr, f, f.store())
	f.restart("e2")
	live(t, tr, f, f.store())
	check(t, h, []uint64{1, 2, 1}, 1)
	if p := h.Pubs("ch"); len(p) != 3 {
		t.Fatal(p)
	}
}

func TestCatchUpAfterReconnect(t *testing.T) {
	tr, f, h, _ := setup(t)
	live(t, tr, f, f.store())
	f.store() // published while the live feed was down
	f.store()
	tr.CatchUpAll()
	check(t, h, []uint64{1, 2, 3}, 0)
	live(t, tr, f, f.store())
	check(t, h, []uint64{1, 2, 3, 4}, 0)
}

// History that lost everything while the feed was down is one loss, and
// delivery goes on in the new epoch.
func TestCatchUpFindsHistoryGone(t *testing.T) {
	tr, f, h, _ := setup(t)
	live(t, tr, f, f.store())
	f.restart("")
	tr.CatchUpAll()
	check(t, h, []uint64{1}, 1)
	f.restart("e2")
	live(t, tr, f, f.store())
	check(t, h, []uint64{1, 1}, 1)
}

func TestPositionCheckQuietOnHealthyChannel(t *testing.T) {
	tr, f, h, _ := setup(t)
	for range 3 {
		live(t, tr, f, f.store())
	}
	reads := f.reads
	for range 5 {
		tr.CheckPositions()
	}
	check(t, h, []uint64{1, 2, 3}, 0)
	if f.reads != reads+5 {
		t.Fatalf("%d reads for 5 checks of a healthy channel, want 5 (the heads)", f.reads-reads)
	}
	f.fail(errors.New("down"))
	tr.CheckPositions()
	check(t, h, []uint64{1, 2, 3}, 0) // a check that cannot read reports nothing
}

func TestPositionCheckCatchesLostTail(t *testing.T) {
	tr, f, h, _ := setup(t)
	live(t, tr, f, f.store())
	f.store() // the last publication, lost live
	tr.CheckPositions()
	check(t, h, []uint64{1, 2}, 0)
	live(t, tr, f, f.store())
	check(t, h, []uint64{1, 2, 3}, 0)
}

func TestUnsubscribeStopsDelivery(t *testing.T) {
	f, h := newFakeHistory(), brokertest.NewLossRecorder()
	life := lifecycle.New("test", time.Second)
	defer life.Close()
	tr := New(Config{Name: "test broker", History: f, Life: life, Logger: slog.New(slog.DiscardHandler)})
	if err := tr.Start(h); err != nil {
		t.Fatal(err)
	}
	stopped := 0
	listen := func(context.Context) (func(context.Context), error) {
		return func(context.Context) { stopped++ }, nil
	}
	if err := tr.Subscribe(context.Background(), "ch", listen); err != nil {
		t.Fatal(err)
	}
	if err := tr.Subscribe(context.Background(), "ch", listen); err != nil { // twice is once
		t.Fatal(err)
	}
	c := tr.Channel("ch")
	for range 2 {
		if err := tr.Unsubscribe(context.Background(), "ch"); err != nil {
			t.Fatal(err)
		}
	}
	if stopped != 1 {
		t.Fatalf("live feed stopped %d times, want 1", stopped)
	}
	c.Deliver(f.store(), f.epoch, 1) // a message already in flight
	c.Join(&broker.ClientInfo{Client: "x"})
	tr.CatchUpAll()
	if tr.Channel("ch") != nil || len(tr.Channels()) != 0 || len(h.Pubs("ch")) != 0 {
		t.Fatal("delivered after Unsubscribe")
	}
}

func TestSubscribeFailureTracksNothing(t *testing.T) {
	tr, _, _, _ := setup(t)
	boom := errors.New("boom")
	err := tr.Subscribe(context.Background(), "other", func(context.Context) (func(context.Context), error) { return nil, boom })
	if !errors.Is(err, boom) || tr.Channel("other") != nil {
		t.Fatalf("Subscribe: %v; tracked: %v", err, tr.Channel("other") != nil)
	}
}

// After Close, catch-ups and position checks call nothing.
func TestNothingAfterClose(t *testing.T) {
	tr, f, h, life := setup(t)
	live(t, tr, f, f.store())
	f.store()
	life.Close()
	tr.CatchUpAll()
	tr.CheckPositions()
	check(t, h, []uint64{1}, 0)
}

// presenceRecorder also records joins and leaves, for TestReceive.
type presenceRecorder struct {
	*brokertest.LossRecorder
	events []string
}

func (r *presenceRecorder) HandleJoin(ch string, info *broker.ClientInfo) {
	r.events = append(r.events, "join:"+ch+":"+info.Client)
}

func (r *presenceRecorder) HandleLeave(ch string, info *broker.ClientInfo) {
	r.events = append(r.events, "leave:"+ch+":"+info.Client)
}

// Receive hands each kind of live message to the channel, and drops what
// it cannot read or what belongs to no subscribed channel.
func TestReceive(t *testing.T) {
	f, h := newFakeHistory(), &presenceRecorder{LossRecorder: brokertest.NewLossRecorder()}
	life := lifecycle.New("test", time.Second)
	defer life.Close()
	tr := New(Config{Name: "test broker", History: f, Life: life, Logger: slog.New(slog.DiscardHandler)})
	if err := tr.Start(h); err != nil {
		t.Fatal(err)
	}
	if err := tr.Subscribe(context.Background(), "ch", noListen); err != nil {
		t.Fatal(err)
	}
	parse := func(body string) (*broker.Publication, string, uint64, error) {
		if body != "1" {
			return nil, "", 0, errors.New("malformed")
		}
		return &broker.Publication{Offset: 1}, "e1", 1, nil
	}
	for _, m := range []string{"", "p1", "pbad", `j{"client":"a"}`, `l{"client":"a"}`, "j{", "x"} {
		Receive(tr, "ch", m, parse)
	}
	Receive(tr, "other", "p1", parse)
	Receive(tr, "other", `j{"client":"b"}`, parse)
	check(t, h.LossRecorder, []uint64{1}, 0)
	if !slices.Equal(h.events, []string{"join:ch:a", "leave:ch:a"}) {
		t.Fatalf("presence events %v", h.events)
	}
	if n := len(h.Pubs("other")); n != 0 {
		t.Fatalf("delivered %d on a channel not subscribed", n)
	}
}
