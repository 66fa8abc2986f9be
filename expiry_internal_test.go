package herald

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/heraldrt/herald/protocol"
)

// recordingConn keeps what a session writes.
type recordingConn struct {
	mu     sync.Mutex
	frames [][]byte
}

func (c *recordingConn) WriteText(b []byte) error {
	c.mu.Lock()
	c.frames = append(c.frames, append([]byte(nil), b...))
	c.mu.Unlock()
	return nil
}
func (c *recordingConn) Pending() int      { return 0 }
func (c *recordingConn) Close(int, string) {}
func (c *recordingConn) Abort()            {}

func (c *recordingConn) refreshPushes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	push := protocol.EncodePush(&protocol.Push{Op: protocol.OpRefreshPush})
	for _, f := range c.frames {
		n += bytes.Count(f, push)
	}
	return n
}

// A timer callback that started before a refresh re-armed the expiry (its
// generation is older) must do nothing: no refresh push right after the
// refresh, no second timer.
func TestStaleExpiryCallbackIsIgnored(t *testing.T) {
	n := wheelNode(t, Config{RefreshAhead: time.Minute})
	c := &recordingConn{}
	s := &Session{node: n, conn: c, id: "s", connected: true}
	s.setExpiry(time.Now().Add(time.Hour))
	s.mu.Lock()
	stale := s.rare.expiryGen
	s.mu.Unlock()

	s.setExpiry(time.Now().Add(2 * time.Hour)) // the refresh
	s.onExpiryTimer(stale)                     // the old timer's callback, late

	s.mu.Lock()
	asked := s.rare.refreshAsked
	s.mu.Unlock()
	if asked {
		t.Fatal("a stale callback asked for a refresh")
	}
	// Let a writer flush anything that was queued.
	time.Sleep(50 * time.Millisecond)
	if got := c.refreshPushes(); got != 0 {
		t.Fatalf("%d refresh pushes after a stale callback, want 0", got)
	}

	// The current generation still works: its callback asks for a refresh
	// inside the refresh window.
	s.setExpiry(time.Now().Add(30 * time.Second))
	s.mu.Lock()
	current := s.rare.expiryGen
	s.stopExpiryLocked()
	s.mu.Unlock()
	s.onExpiryTimer(current)
	s.mu.Lock()
	asked = s.rare.refreshAsked
	s.stopExpiryLocked()
	s.mu.Unlock()
	if !asked {
		t.Fatal("the current generation's callback did not ask for a refresh")
	}
}
