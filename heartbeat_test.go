package herald_test

import (
	"testing"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/protocol"
)

// Many connections share the node's heartbeat wheel: each one that never
// sends connect is closed with 3006, each connected one that stops
// answering pings with 3001, and those that answer stay.
func TestHeartbeatManyConnections(t *testing.T) {
	ts := startServer(t, herald.Config{
		ConnectTimeout: 300 * time.Millisecond,
		PingInterval:   50 * time.Millisecond,
		PongTimeout:    time.Second, // the answering clients are served one after another
	})
	var idle, silent, answering []*wstest.Client
	for i := 0; i < 20; i++ {
		idle = append(idle, wstest.Dial(t, ts.url))
		silent = append(silent, ts.dial(t))
	}
	for i := 0; i < 5; i++ {
		answering = append(answering, ts.dial(t))
	}
	for round := 0; round < 4; round++ {
		for i, c := range answering {
			m, err := c.Next(5 * time.Second)
			if err != nil || m.Op != "ping" {
				t.Fatalf("answering client %d, round %d: %+v %v", i, round, m, err)
			}
			if err := c.SendRaw(`{"op":"pong"}`); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, c := range idle {
		if code := c.ExpectClose(10 * time.Second); code != protocol.CloseConnectTimeout {
			t.Fatalf("idle client %d: close %d, want %d", i, code, protocol.CloseConnectTimeout)
		}
	}
	for i, c := range silent {
		if code := c.ExpectClose(10 * time.Second); code != protocol.CloseNoPong {
			t.Fatalf("silent client %d: close %d, want %d", i, code, protocol.CloseNoPong)
		}
	}
	for i, c := range answering {
		if r := c.Call(map[string]any{"op": "subscribe", "channel": "still-here"}); r.Error != nil {
			t.Fatalf("answering client %d: %v", i, r.Error)
		}
	}
}
