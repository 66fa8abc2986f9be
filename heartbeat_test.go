package herald_test

import (
	"fmt"
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
		PongTimeout:    3 * time.Second,
	})
	var idle, silent, answering []*wstest.Client
	for i := 0; i < 20; i++ {
		idle = append(idle, wstest.Dial(t, ts.url))
		silent = append(silent, ts.dial(t))
	}
	for i := 0; i < 5; i++ {
		answering = append(answering, ts.dial(t))
	}
	// Each answering client answers its own pings, so that a loaded
	// machine that delays one of them does not delay the others' pongs.
	errs := make(chan error, len(answering))
	for i, c := range answering {
		go func() {
			for round := 0; round < 4; round++ {
				m, err := c.Next(5 * time.Second)
				if err != nil || m.Op != "ping" {
					errs <- fmt.Errorf("answering client %d, round %d: %+v %v", i, round, m, err)
					return
				}
				if err := c.SendRaw(`{"op":"pong"}`); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range answering {
		if err := <-errs; err != nil {
			t.Fatal(err)
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
