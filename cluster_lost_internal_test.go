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
