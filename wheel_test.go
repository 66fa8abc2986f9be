package herald

import (
	"bytes"
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/heraldrt/herald/protocol"
)

// closingConn records what a session writes and the close it asks for,
// and reports the close back to the session as the transport would.
type closingConn struct {
	mu     sync.Mutex
	s      *Session
	pings  int
	code   int
	closes int
	at     time.Time
	done   chan struct{}
}

func newClosingConn() *closingConn { return &closingConn{done: make(chan struct{})} }

func (c *closingConn) WriteText(b []byte) error {
	c.mu.Lock()
	c.pings += bytes.Count(b, protocol.PingPush)
	c.mu.Unlock()
	return nil
}
func (c *closingConn) Pending() int { return 0 }
func (c *closingConn) Abort()       {}
func (c *closingConn) Close(code int, _ string) {
	c.mu.Lock()
	c.closes++
	first := c.closes == 1
	if first {
		c.code, c.at = code, time.Now()
	}
	c.mu.Unlock()
	if first {
		go func() {
			c.s.handleClose(nil)
			close(c.done)
		}()
	}
}

func (c *closingConn) result() (code, closes, pings int, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.code, c.closes, c.pings, c.at
}

func wheelNode(t *testing.T, cfg Config) *Node {
	t.Helper()
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Shutdown(context.Background()) })
	return n
}

func newWheelSession(n *Node, i int) (*Session, *closingConn) {
	c := newClosingConn()
	s := &Session{node: n, conn: c, id: "s" + strconv.Itoa(i)}
	c.s = s
	return s, c
}

func waitClosed(t *testing.T, c *closingConn) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the session was not closed")
	}
}

// Every session that never sends connect is closed by the wheel with 3006,
// once, and not before its connect timeout; afterwards none is left on the
// wheel.
func TestWheelConnectTimeout(t *testing.T) {
	const timeout = 40 * time.Millisecond
	n := wheelNode(t, Config{ConnectTimeout: timeout})
	conns := make([]*closingConn, 300)
	starts := make([]time.Time, len(conns))
	for i := range conns {
		var s *Session
		s, conns[i] = newWheelSession(n, i)
		starts[i] = time.Now()
		s.startConnectTimer()
	}
	for i, c := range conns {
		waitClosed(t, c)
		code, closes, _, at := c.result()
		if code != protocol.CloseConnectTimeout || closes != 1 {
			t.Fatalf("session %d: close %d (%d times), want %d once", i, code, closes, protocol.CloseConnectTimeout)
		}
		if early := starts[i].Add(timeout).Sub(at); early > 0 {
			t.Fatalf("session %d closed %v before its connect timeout", i, early)
		}
	}
	if left := n.wheel.len(); left != 0 {
		t.Fatalf("%d sessions left on the wheel", left)
	}
}

// A session that closes before its step is due leaves the wheel at once,
// and the step never runs.
func TestWheelCancelOnClose(t *testing.T) {
	n := wheelNode(t, Config{ConnectTimeout: 50 * time.Millisecond})
	var conns []*closingConn
	for i := 0; i < 100; i++ {
		s, c := newWheelSession(n, i)
		s.startConnectTimer()
		if i%2 == 0 {
			s.Disconnect(protocol.CloseForceReconnect, "")
		} else {
			s.handleClose(nil) // the peer went away
		}
		conns = append(conns, c)
	}
	if left := n.wheel.len(); left != 0 {
		t.Fatalf("%d closed sessions still on the wheel", left)
	}
	time.Sleep(150 * time.Millisecond) // past the connect timeout
	for i, c := range conns {
		if code, _, _, _ := c.result(); code == protocol.CloseConnectTimeout {
			t.Fatalf("session %d: the cancelled connect timeout fired", i)
		}
	}
}

// Connected sessions are pinged; those that answer stay, those that do not
// are closed with 3001, each through the one wheel.
func TestWheelHeartbeat(t *testing.T) {
	// A long pong timeout: the answering goroutine may be slow to run.
	n := wheelNode(t, Config{PingInterval: 10 * time.Millisecond, PongTimeout: 500 * time.Millisecond})
	type peer struct {
		s *Session
		c *closingConn
	}
	var live, dead []peer
	for i := 0; i < 200; i++ {
		s, c := newWheelSession(n, i)
		s.mu.Lock()
		s.connected = true
		s.mu.Unlock()
		s.startHeartbeat()
		if i%2 == 0 {
			live = append(live, peer{s, c})
		} else {
			dead = append(dead, peer{s, c})
		}
	}
	// Answer every ping of the live half until each has had five.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			for _, p := range live {
				p.s.handlePong()
			}
		}
	}()
	for _, p := range dead {
		waitClosed(t, p.c)
		if code, closes, pings, _ := p.c.result(); code != protocol.CloseNoPong || closes != 1 || pings != 1 {
			t.Fatalf("silent session: close %d (%d times) after %d pings, want %d once after 1", code, closes, pings, protocol.CloseNoPong)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, p := range live {
		for {
			code, _, pings, _ := p.c.result()
			if code != 0 {
				close(stop)
				wg.Wait()
				t.Fatalf("a session that answered was closed with %d", code)
			}
			if pings >= 5 {
				break
			}
			if time.Now().After(deadline) {
				close(stop)
				wg.Wait()
				t.Fatalf("a live session had %d pings", pings)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	close(stop)
	wg.Wait()
	if left, want := n.wheel.len(), len(live); left != want {
		t.Fatalf("%d sessions on the wheel, want %d (the live ones)", left, want)
	}
}

// A step further away than one turn of the wheel waits for its own turn.
func TestWheelStepBeyondOneTurn(t *testing.T) {
	n := wheelNode(t, Config{ConnectTimeout: 30 * time.Millisecond})
	w := &n.wheel
	w.mu.Lock()
	w.tick = time.Millisecond
	w.slots = make([]*Session, 4) // one turn: 4 ms
	w.start = time.Now()
	w.mu.Unlock()

	s, c := newWheelSession(n, 0)
	start := time.Now()
	s.startConnectTimer()
	waitClosed(t, c)
	code, _, _, at := c.result()
	if code != protocol.CloseConnectTimeout {
		t.Fatalf("close %d, want %d", code, protocol.CloseConnectTimeout)
	}
	if waited := at.Sub(start); waited < 30*time.Millisecond {
		t.Fatalf("closed after %v, before its 30ms timeout", waited)
	}
}

// The timer is set for the earliest waiting step: a short step scheduled
// after a long one does not wait for the long one.
func TestWheelEarlierStepMovesTimer(t *testing.T) {
	n := wheelNode(t, Config{ConnectTimeout: 50 * time.Millisecond, PingInterval: time.Minute, PongTimeout: time.Minute})
	long, longConn := newWheelSession(n, 0)
	long.mu.Lock()
	long.connected = true
	long.mu.Unlock()
	long.startHeartbeat() // the timer is set for a minute from now
	short, shortConn := newWheelSession(n, 1)
	short.startConnectTimer()
	waitClosed(t, shortConn)
	if code, _, _, _ := shortConn.result(); code != protocol.CloseConnectTimeout {
		t.Fatalf("close %d, want %d", code, protocol.CloseConnectTimeout)
	}
	if code, _, pings, _ := longConn.result(); code != 0 || pings != 0 {
		t.Fatalf("the long step ran early: close %d, %d pings", code, pings)
	}
	if left := n.wheel.len(); left != 1 {
		t.Fatalf("%d sessions on the wheel, want 1", left)
	}
}

func TestWheelSizing(t *testing.T) {
	for _, tc := range []struct {
		cfg   Config
		tick  time.Duration
		slots int
	}{
		{Config{}, 100 * time.Millisecond, 256}, // the defaults: 25 s in 250 ticks
		{Config{ConnectTimeout: 100 * time.Millisecond, PingInterval: 50 * time.Millisecond, PongTimeout: 100 * time.Millisecond}, 3125 * time.Microsecond, 64},
		{Config{ConnectTimeout: 10 * time.Millisecond, PingInterval: time.Hour, PongTimeout: time.Second}, time.Millisecond, 4096},
	} {
		cfg := tc.cfg
		cfg.setDefaults()
		tick := wheelTick(&cfg)
		if slots := wheelSlots(&cfg, tick); tick != tc.tick || slots != tc.slots {
			t.Errorf("%v/%v/%v: tick %v, %d slots; want %v, %d", cfg.ConnectTimeout, cfg.PingInterval, cfg.PongTimeout, tick, slots, tc.tick, tc.slots)
		}
	}
}

// A session holds a write queue only while messages wait: none once its
// reply or its publication is written.
func TestIdleSessionHoldsNoQueue(t *testing.T) {
	n := wheelNode(t, Config{})
	s, _ := newWheelSession(n, 0)
	s.mu.Lock()
	s.connected = true
	s.mu.Unlock()
	written := func() bool { // reports whether a queue is held once written
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			s.mu.Lock()
			held, idle := s.queue != nil, !s.flushing
			s.mu.Unlock()
			if idle {
				return held
			}
			time.Sleep(time.Millisecond)
		}
		t.Fatal("the session's messages were not written")
		return false
	}
	s.enqueue([]byte(`{"id":1,"result":{}}`))
	if written() {
		t.Fatal("a session holds a queue after its reply was written")
	}
	s.deliver(&subscription{session: s, live: true}, []byte(`{"op":"pub"}`), 1, nil)
	if written() {
		t.Fatal("a session holds a queue after its publication was written")
	}
}
