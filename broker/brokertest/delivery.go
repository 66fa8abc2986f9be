package brokertest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/heraldrt/herald/broker"
)

// DeliveryNode is a broker under RunDelivery, not started, with the means
// to change its history behind its back. A broker whose live feed between
// nodes can lose messages (Redis pub/sub, core NATS) fills gaps from
// history and reports to a broker.StateLossHandler what history no longer
// holds; RunDelivery checks that it does.
type DeliveryNode struct {
	Broker broker.Broker
	// PublishSilently stores channel's next publication in history the
	// way Publish does (with WithHistory), but sends nothing live: what a
	// lost live message looks like.
	PublishSilently func(t *testing.T, channel string)
	// Skip moves channel's history n offsets ahead, none of them sent
	// live, and makes history lose all of them but perhaps the last (as
	// trimming would): the next Publish gets the offset after them.
	Skip func(t *testing.T, channel string, n int)
	// Drop deletes channel's history, as a server that lost its data: the
	// next Publish starts a new epoch.
	Drop func(t *testing.T, channel string)
}

// NewDeliveryNode returns a fresh node for one subtest, whose broker
// checks positions every positionCheck (its default when 0).
type NewDeliveryNode func(t *testing.T, positionCheck time.Duration) DeliveryNode

// RunDelivery runs the gap-filling suite.
func RunDelivery(t *testing.T, newNode NewDeliveryNode) {
	tests := []struct {
		name  string
		check time.Duration
		fn    func(t *testing.T, n DeliveryNode, h *LossRecorder)
	}{
		{"GapFilledFromHistory", 0, testGapFilled},
		{"StateLossWhenHistoryTrimmed", 0, testGapTrimmed},
		{"StateLossOnNewEpoch", 0, testNewEpoch},
		{"PositionCheckDeliversLostLastPublication", 20 * time.Millisecond, testLostTail},
		{"PositionCheckQuietOnHealthyChannels", 20 * time.Millisecond, testQuietCheck},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t, tc.check)
			h := NewLossRecorder()
			Start(t, n.Broker, h)
			defer func() { _ = n.Broker.Close(context.Background()) }()
			tc.fn(t, n, h)
		})
	}
}

// A publication whose live message was lost is delivered from history,
// in its place, when the next one arrives.
func testGapFilled(t *testing.T, n DeliveryNode, h *LossRecorder) { silentGap(t, n, h, "gap", 2, true) }

// A lost last publication, which no later one reveals, is delivered by
// the periodic position check, in order and once.
func testLostTail(t *testing.T, n DeliveryNode, h *LossRecorder) {
	silentGap(t, n, h, "tail", 1, false)
}

// silentGap publishes once, then silent publications silently, then (when
// then is set) once more: every one must arrive once, in order, with no
// loss.
func silentGap(t *testing.T, n DeliveryNode, h *LossRecorder, ch string, silent int, then bool) {
	t.Helper()
	Subscribe(t, n.Broker, ch)
	Publish(t, n.Broker, ch, 1, WithHistory)
	for range silent {
		n.PublishSilently(t, ch)
	}
	total := 1 + silent
	if then {
		total++
		Publish(t, n.Broker, ch, total, WithHistory)
	}
	h.WaitInOrder(t, ch, total)
	if l := h.Losses(); len(l) != 0 {
		t.Fatalf("state loss reported: %v", l)
	}
}

// A gap history no longer holds is reported once to the
// StateLossHandler, and delivery goes on with what history has.
func testGapTrimmed(t *testing.T, n DeliveryNode, h *LossRecorder) {
	ch := "trimmed"
	Subscribe(t, n.Broker, ch)
	Publish(t, n.Broker, ch, 1, WithHistory)
	n.Skip(t, ch, 8) // offsets 2..9
	Publish(t, n.Broker, ch, 10, WithHistory)
	h.WaitPubs(t, wait, ch, 2)
	Eventually(t, wait, "offset 10", func() bool { p := h.Pubs(ch); return p[len(p)-1].Offset == 10 })
	var got []uint64
	for _, p := range h.Pubs(ch) {
		got = append(got, p.Offset)
	}
	if !slices.Equal(got, []uint64{1, 10}) && !slices.Equal(got, []uint64{1, 9, 10}) {
		t.Fatalf("offsets %v; want 1, 10 (or 1, 9, 10 when history kept 9)", got)
	}
	if l := h.Losses(); len(l) != 1 || l[0] != ch {
		t.Fatalf("losses %v, want one for %s", l, ch)
	}
}

// A channel whose history was lost starts again in a new epoch; the node
// is told.
func testNewEpoch(t *testing.T, n DeliveryNode, h *LossRecorder) {
	ch := "epoch"
	Subscribe(t, n.Broker, ch)
	first := Publish(t, n.Broker, ch, 1, WithHistory)
	n.Drop(t, ch)
	next := Publish(t, n.Broker, ch, 2, WithHistory)
	if next.Epoch == first.Epoch || next.Offset != 1 {
		t.Fatalf("after history was lost: %+v, before %+v", next.StreamPosition, first.StreamPosition)
	}
	h.WaitPubs(t, wait, ch, 2)
	if l := h.Losses(); len(l) != 1 {
		t.Fatalf("losses %v, want one", l)
	}
}

// Many check intervals of steady publishing disconnect nobody: the check
// reports no loss on a healthy channel and delivers nothing twice, even
// when it reads history while publications are in flight.
// (Centrifugo users report spurious "insufficient state" disconnects from
// such a check: centrifugal/centrifugo#1120.)
func testQuietCheck(t *testing.T, n DeliveryNode, h *LossRecorder) {
	channels := []string{"a", "b", "c"}
	for _, ch := range channels {
		Subscribe(t, n.Broker, ch)
	}
	const count = 100 // over a second: some 50 check intervals
	for i := 1; i <= count; i++ {
		for _, ch := range channels {
			Publish(t, n.Broker, ch, i, WithHistory)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, ch := range channels {
		h.WaitInOrder(t, ch, count)
	}
	if l := h.Losses(); len(l) != 0 {
		t.Fatalf("state losses on healthy channels: %v", l)
	}
}
