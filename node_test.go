package herald_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/heraldrt/herald"
)

func TestPublishReachesSubscribersInOrder(t *testing.T) {
	ts := startServer(t, herald.Config{})
	a, b := ts.dial(t), ts.dial(t)
	ra := a.Call(map[string]any{"op": "subscribe", "channel": "chat:lobby"})
	rb := b.Call(map[string]any{"op": "subscribe", "channel": "chat:lobby"})
	if ra.Error != nil || rb.Error != nil {
		t.Fatalf("subscribe: %v %v", ra.Error, rb.Error)
	}
	const n = 50
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			if _, err := ts.node.Publish(context.Background(), "chat:lobby", json.RawMessage(`{"i":`+itoa(i)+`}`)); err != nil {
				t.Fatal(err)
			}
		} else {
			r := a.Call(map[string]any{"op": "publish", "channel": "chat:lobby", "data": map[string]int{"i": i}})
			if r.Error != nil {
				t.Fatal(r.Error)
			}
		}
	}
	for name, c := range map[string]*wstestClient{"a": a, "b": b} {
		for i := 0; i < n; i++ {
			m, err := c.NextPush("pub", 5*time.Second)
			if err != nil {
				t.Fatalf("%s: publication %d: %v", name, i, err)
			}
			var d struct{ I int }
			_ = json.Unmarshal(m.Data, &d)
			if d.I != i || m.Channel != "chat:lobby" {
				t.Fatalf("%s: got %s on %s, want i=%d", name, m.Data, m.Channel, i)
			}
		}
	}
}
