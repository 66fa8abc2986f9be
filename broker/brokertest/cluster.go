package brokertest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/heraldrt/herald/broker"
)

// NewBrokerPair returns two brokers on one shared backend: two nodes of
// one cluster. RunCluster closes them.
type NewBrokerPair func(t *testing.T) (a, b broker.Broker)

// RunCluster runs the cases that need two nodes: what one node publishes,
// remembers or is told, the other sees. A single-node broker (memory) has
// nothing to run here.
//
//	func TestCluster(t *testing.T) {
//		brokertest.RunCluster(t, func(t *testing.T) (broker.Broker, broker.Broker) {
//			return newNode(t, prefix), newNode(t, prefix)
//		})
//	}
func RunCluster(t *testing.T, newPair NewBrokerPair) {
	tests := []struct {
		name string
		fn   func(t *testing.T, a, b broker.Broker, ha, hb *Recorder)
	}{
		{"PublicationReachesOtherNode", testCrossNode},
		{"OffsetsAndHistoryShared", testSharedHistory},
		{"IdempotencySharedAcrossNodes", testSharedIdempotency},
		{"ControlReachesEveryNode", testControlEveryNode},
		{"JoinLeaveReachOtherNode", testCrossNodeJoin},
		{"PlainPublicationsKeepOrder", testCrossNodePlainOrder},
		{"PresenceShared", testSharedPresence},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := newPair(t)
			ha, hb := NewRecorder(), NewRecorder()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			for _, n := range []struct {
				b broker.Broker
				h *Recorder
			}{{a, ha}, {b, hb}} {
				if err := n.b.Start(ctx, n.h); err != nil {
					t.Fatalf("Start: %v", err)
				}
				defer func() { _ = n.b.Close(context.Background()) }()
			}
			tc.fn(t, a, b, ha, hb)
		})
	}
}

func testCrossNode(t *testing.T, a, b broker.Broker, ha, hb *Recorder) {
	ch := channel(t)
	if err := b.Subscribe(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	const n = 50
	for i := 1; i <= n; i++ {
		mustPublish(t, a, ch, pub(i), withHistory)
	}
	hb.Wait(t, wait, "the publications on the other node", func(r *Recorder) bool { return len(r.pubs[ch]) == n })
	for i, p := range hb.Pubs(ch) {
		if p.Offset != uint64(i+1) || string(p.Data) != string(data(i+1)) {
			t.Fatalf("position %d: offset %d data %s", i, p.Offset, p.Data)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if len(ha.Pubs(ch)) != 0 {
		t.Fatal("delivered to a node that did not subscribe")
	}
}

// testCrossNodePlainOrder: publications without history (no offsets to
// put them back in order) reach the other node in the order their
// Publish calls returned. On a Redis Cluster a keyless PUBLISH goes to
// any node of the cluster, and two sent through different nodes could
// arrive in either order.
func testCrossNodePlainOrder(t *testing.T, a, b broker.Broker, _, hb *Recorder) {
	ch := channel(t)
	if err := b.Subscribe(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	const n = 300
	for i := 1; i <= n; i++ {
		mustPublish(t, a, ch, pub(i), broker.PublishOptions{})
	}
	hb.WaitPubs(t, wait, ch, n)
	for i, p := range hb.Pubs(ch) {
		if string(p.Data) != string(data(i+1)) {
			t.Fatalf("position %d holds %s, want %s: publications without history were reordered", i, p.Data, data(i+1))
		}
	}
}

func testSharedHistory(t *testing.T, a, b broker.Broker, _, _ *Recorder) {
	ch := channel(t)
	var epoch string
	for i := 1; i <= 10; i++ {
		node := a
		if i%2 == 0 {
			node = b
		}
		res := mustPublish(t, node, ch, pub(i), withHistory)
		if res.Offset != uint64(i) {
			t.Fatalf("publication %d got offset %d: nodes must share one stream", i, res.Offset)
		}
		if epoch == "" {
			epoch = res.Epoch
		}
		if res.Epoch != epoch {
			t.Fatalf("epoch %q on one node, %q on the other", epoch, res.Epoch)
		}
	}
	for _, node := range []broker.Broker{a, b} {
		res, err := node.History(context.Background(), ch, broker.HistoryOptions{Limit: -1})
		if err != nil {
			t.Fatal(err)
		}
		if res.Position != (broker.StreamPosition{Offset: 10, Epoch: epoch}) || len(res.Publications) != 10 {
			t.Fatalf("history %+v with %d publications", res.Position, len(res.Publications))
		}
	}
}

func testSharedIdempotency(t *testing.T, a, b broker.Broker, _, _ *Recorder) {
	ch := channel(t)
	o := withHistory
	o.IdempotencyKey = "k1"
	first := mustPublish(t, a, ch, pub(1), o)
	again := mustPublish(t, b, ch, pub(2), o)
	if !again.Duplicate || again.StreamPosition != first.StreamPosition {
		t.Fatalf("the other node published a duplicate: first %+v, again %+v", first, again)
	}
}

func testControlEveryNode(t *testing.T, a, _ broker.Broker, ha, hb *Recorder) {
	msg, _ := json.Marshal(map[string]string{"op": "cluster"})
	if err := a.PublishControl(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	for _, h := range []*Recorder{ha, hb} {
		h.Wait(t, wait, "the control message on every node", func(r *Recorder) bool {
			return len(r.controls) == 1 && string(r.controls[0]) == string(msg)
		})
	}
}

func testCrossNodeJoin(t *testing.T, a, b broker.Broker, _, hb *Recorder) {
	ch := channel(t)
	ctx := context.Background()
	if err := b.Subscribe(ctx, ch); err != nil {
		t.Fatal(err)
	}
	if err := a.PublishJoin(ctx, ch, &broker.ClientInfo{Client: "c1", User: "u1"}); err != nil {
		t.Fatal(err)
	}
	if err := a.PublishLeave(ctx, ch, &broker.ClientInfo{Client: "c1", User: "u1"}); err != nil {
		t.Fatal(err)
	}
	hb.Wait(t, wait, "join and leave on the other node", func(r *Recorder) bool { return len(r.presence) == 2 })
	hb.mu.Lock()
	defer hb.mu.Unlock()
	if hb.presence[0] != "join:"+ch+":c1" || hb.presence[1] != "leave:"+ch+":c1" {
		t.Fatalf("got %v", hb.presence)
	}
}

func testSharedPresence(t *testing.T, a, b broker.Broker, _, _ *Recorder) {
	pa, okA := a.(broker.PresenceStore)
	pb, okB := b.(broker.PresenceStore)
	if !okA || !okB {
		t.Skip("this broker keeps no presence")
	}
	ch := channel(t)
	ctx := context.Background()
	if err := pa.AddPresence(ctx, ch, &broker.ClientInfo{Client: "ca", User: "ua"}); err != nil {
		t.Fatal(err)
	}
	if err := pb.AddPresence(ctx, ch, &broker.ClientInfo{Client: "cb", User: "ub"}); err != nil {
		t.Fatal(err)
	}
	for _, ps := range []broker.PresenceStore{pa, pb} {
		got, err := ps.Presence(ctx, ch)
		if err != nil || len(got) != 2 || got["ca"].User != "ua" || got["cb"].User != "ub" {
			t.Fatalf("presence seen by one node: %+v %v", got, err)
		}
	}
	if err := pb.RemovePresence(ctx, ch, "ca"); err != nil { // any node may remove
		t.Fatal(err)
	}
	if got, _ := pa.Presence(ctx, ch); len(got) != 1 || got["cb"] == nil {
		t.Fatalf("after remove: %+v", got)
	}
}
