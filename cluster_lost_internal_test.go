package herald

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// TestOnNodeLost: a node that falls silent is reported lost once, by
// name; a node that said it was leaving is not, and neither is this node.
func TestOnNodeLost(t *testing.T) {
	const interval = 40 * time.Millisecond
	n, err := New(Config{Name: "b-node", AnnounceInterval: interval})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Shutdown(context.Background())
	lost := make(chan string, 10)
	n.OnNodeLost(func(name string) { lost <- name })
	events := (*brokerEvents)(n)
	announce := func(op, name string) {
		b, _ := json.Marshal(control{Op: op, Node: &NodeInfo{Name: name}})
		events.HandleControl(b)
	}
	announce("node", "a-node")
	announce("node", "c-node")
	announce("node_leave", "c-node")
	select {
	case name := <-lost:
		if name != "a-node" {
			t.Fatalf("lost %q, want a-node (c-node left, b-node is this node)", name)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a-node, silent, was never reported lost")
	}
	// Reported once: by now the node checked at least twice more.
	deadline := time.Now().Add(5 * interval)
	for time.Now().Before(deadline) {
		select {
		case name := <-lost:
			t.Fatalf("then lost %q too, want nothing more", name)
		case <-time.After(interval):
		}
	}
	if got := nodeNames(n.Nodes()); len(got) != 1 || got[0] != "b-node" {
		t.Fatalf("nodes after the loss: %v, want [b-node]", got)
	}
}

// TestCutOffNodeReportsNobody: a node whose own announcements stop coming
// back lost its broker, not the others: it reports none of them; once it
// hears itself again it reports itself (the others may have taken it for
// lost) and gives the others a full window to be heard again.
func TestCutOffNodeReportsNobody(t *testing.T) {
	var c cluster
	t0 := time.Now()
	sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	c.heard(NodeInfo{Name: "self"}, t0)
	c.heard(NodeInfo{Name: "other"}, t0)
	if names, _ := c.expire(sec(1), sec(2), "self"); len(names) != 0 {
		t.Fatalf("cut off: reported %v, want nobody", names)
	}
	c.heard(NodeInfo{Name: "self"}, sec(3))
	if names, _ := c.expire(sec(2), sec(3), "self"); len(names) != 1 || names[0] != "self" {
		t.Fatalf("back: reported %v, want [self]", names)
	}
	if names, _ := c.expire(sec(2), sec(4), "self"); len(names) != 0 {
		t.Fatalf("within the other's new window: reported %v, want nobody", names)
	}
	c.heard(NodeInfo{Name: "self"}, sec(9))
	if names, _ := c.expire(sec(8), sec(9), "self"); len(names) != 1 || names[0] != "other" {
		t.Fatalf("the other still silent after its window: reported %v, want [other]", names)
	}
}
