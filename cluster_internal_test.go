package herald

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

func nodeNames(infos []NodeInfo) []string {
	var out []string
	for _, i := range infos {
		out = append(out, i.Name)
	}
	return out
}

// TestClusterView: the node lists itself, every node it hears announce
// itself through the broker, forgets one that left at once, and one that
// fell silent after three announce intervals.
func TestClusterView(t *testing.T) {
	const interval = 40 * time.Millisecond
	n, err := New(Config{Name: "b-node", AnnounceInterval: interval})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Shutdown(context.Background())
	events := (*brokerEvents)(n)
	announce := func(op, name string) {
		b, _ := json.Marshal(control{Op: op, Node: &NodeInfo{Name: name, Connections: 7}})
		events.HandleControl(b)
	}

	if got := nodeNames(n.Nodes()); len(got) != 1 || got[0] != "b-node" {
		t.Fatalf("alone: %v, want [b-node]", got)
	}
	if v := n.Nodes()[0].Version; v == "" {
		t.Error("NodeInfo.Version is empty")
	}
	announce("node", "a-node")
	announce("node", "c-node")
	if got := nodeNames(n.Nodes()); len(got) != 3 || got[0] != "a-node" || got[2] != "c-node" {
		t.Fatalf("after two announcements: %v, want [a-node b-node c-node]", got)
	}
	if n.Nodes()[0].Connections != 7 {
		t.Errorf("a-node's info: %+v, want its announced connections", n.Nodes()[0])
	}
	announce("node_leave", "c-node")
	if got := nodeNames(n.Nodes()); len(got) != 2 {
		t.Fatalf("after c-node left: %v, want [a-node b-node]", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(n.Nodes()) != 1 && time.Now().Before(deadline) {
		time.Sleep(interval)
	}
	if got := nodeNames(n.Nodes()); len(got) != 1 {
		t.Fatalf("a-node silent for long: %v, want it forgotten", got)
	}
	// Malformed or nameless announcements change nothing.
	events.HandleControl([]byte(`{"op":"node"}`))
	events.HandleControl([]byte(`{"op":"node","node":{"name":""}}`))
	if got := nodeNames(n.Nodes()); len(got) != 1 {
		t.Fatalf("after bad announcements: %v", got)
	}
}

// TestNodeAnnouncesItself: with the embedded broker, the node's own
// announcements come back to it, and nothing else appears.
func TestNodeAnnouncesItself(t *testing.T) {
	n, err := New(Config{Name: "solo", AnnounceInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Shutdown(context.Background())
	deadline := time.Now().Add(5 * time.Second)
	for {
		n.cluster.mu.Lock()
		_, heard := n.cluster.nodes["solo"]
		n.cluster.mu.Unlock()
		if heard {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the node never heard its own announcement")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := nodeNames(n.Nodes()); len(got) != 1 || got[0] != "solo" {
		t.Fatalf("Nodes() = %v, want [solo]", got)
	}
}
