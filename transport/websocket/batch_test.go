package websocket

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/uring"
	"github.com/heraldrt/herald/internal/wsframe"
	"github.com/heraldrt/herald/internal/wstest"
	"github.com/lesismal/nbio"
	"github.com/lesismal/nbio/nbhttp/websocket"
)

// batchRig is a server whose connections the test writes to itself, as
// Herald's writer would.
type batchRig struct {
	srv   *Server
	url   string
	conns chan *Conn
}

// closePeer records the end of a connection.
type closePeer struct{ closed chan error }

func (p *closePeer) HandleFrame([]byte, bool) {}
func (p *closePeer) HandleClose(err error)    { p.closed <- err }

// newBatchRig starts a server on the given send path; on "on" it skips
// where io_uring is unavailable.
func newBatchRig(t *testing.T, mode string) *batchRig {
	t.Helper()
	SetLibraryLogger(nil)
	rig := &batchRig{conns: make(chan *Conn, 16)}
	srv, err := NewServer(Config{IOUring: mode}, func(*http.Request) (*Admission, int, string) {
		return &Admission{Bind: func(c *Conn) Peer {
			rig.conns <- c
			return &closePeer{closed: make(chan error, 1)}
		}}, 0, ""
	})
	if mode == IOUringOn && errors.Is(err, uring.ErrUnavailable) {
		needIOUring(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	rig.srv, rig.url = srv, wstest.WSURL(hs.URL, "/")
	return rig
}

// dial opens a connection whose receive buffer is small (rcvbuf bytes,
// when not 0) and returns it with the server's side, whose send buffer is
// made as small.
func (rig *batchRig) dial(t *testing.T, rcvbuf int) (*wstest.Raw, *Conn) {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if rcvbuf > 0 {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
			})
			return errors.Join(err, serr)
		}
	}
	host := strings.TrimPrefix(rig.url, "ws://")
	host = host[:strings.IndexByte(host, '/')]
	nc, err := d.DialContext(context.Background(), "tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	raw := wstest.NewRaw(t, nc, rig.url)
	var c *Conn
	select {
	case c = <-rig.conns:
	case <-time.After(10 * time.Second):
		t.Fatal("the server never bound the connection")
	}
	if connOf(c.ws) != c { // waits until ServeHTTP published the binding
		t.Fatal("the connection was bound to another Conn")
	}
	if nc, ok := c.ws.UnderlayerConn().(*nbio.Conn); rcvbuf > 0 && ok {
		if err := syscall.SetsockoptInt(nc.Hash(), syscall.SOL_SOCKET, syscall.SO_SNDBUF, rcvbuf); err != nil {
			t.Fatal(err)
		}
	}
	return raw, c
}

// waitUntil polls cond until it holds, failing the test after a generous
// deadline (the machine may be loaded).
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestIOUringSettingChoosesTheSendPath(t *testing.T) {
	off := newBatchRig(t, IOUringOff)
	if got := off.srv.SendPath(); got != SendPathWrite {
		t.Errorf("IOUring off: send path %q", got)
	}
	on := newBatchRig(t, IOUringOn)
	if got := on.srv.SendPath(); got != SendPathIOUring {
		t.Errorf("IOUring on: send path %q", got)
	}
	if _, err := NewServer(Config{IOUring: "sometimes"}, nil); err == nil || !strings.Contains(err.Error(), "auto, on or off") {
		t.Errorf("an unknown IOUring value: %v", err)
	}
	t.Setenv("HERALD_IO_URING", "sometimes")
	if _, err := NewServer(Config{}, nil); err == nil || !strings.Contains(err.Error(), "HERALD_IO_URING") {
		t.Errorf("an unknown HERALD_IO_URING value: %v", err)
	}
	t.Setenv("HERALD_IO_URING", "off")
	env := newBatchRig(t, "")
	if got := env.srv.SendPath(); got != SendPathWrite {
		t.Errorf("HERALD_IO_URING=off with IOUring empty: send path %q", got)
	}
}

func TestBatchedSendWaitsForFlushAndKeepsOrder(t *testing.T) {
	rig := newBatchRig(t, IOUringOn)
	raw, c := rig.dial(t, 0)
	for i := 0; i < 3; i++ {
		if err := c.WriteText([]byte(fmt.Sprintf("m%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if got := rig.srv.SendStats().Sends; got != 0 {
		t.Fatalf("%d sends before FlushSends", got)
	}
	if c.Pending() != 3*frameSize(2) {
		t.Errorf("Pending %d before the flush, want %d", c.Pending(), 3*frameSize(2))
	}
	rig.srv.FlushSends()
	for i := 0; i < 3; i++ {
		_, p, err := raw.ReadFrame(10 * time.Second)
		if err != nil || string(p) != fmt.Sprintf("m%d", i) {
			t.Fatalf("frame %d: %q, %v", i, p, err)
		}
	}
	st := rig.srv.SendStats()
	if st.Sends != 1 || st.Rounds != 1 {
		t.Errorf("three frames of one round: %+v, want one send in one round", st)
	}
	waitUntil(t, "Pending to reach 0", func() bool { return c.Pending() == 0 })
}

func TestBatchedSendSkipsAConnectionClosedBeforeSubmission(t *testing.T) {
	rig := newBatchRig(t, IOUringOn)
	raw1, c1 := rig.dial(t, 0)
	if err := c1.WriteText([]byte("lost")); err != nil {
		t.Fatal(err)
	}
	// Closed while its send waits for the round: the fd is closed now, and
	// the next connection may well get its number.
	fd1 := c1.nbioConn().Hash()
	c1.Abort()
	raw2, c2 := rig.dial(t, 0)
	t.Logf("fds: closed %d, new %d", fd1, c2.nbioConn().Hash())
	if err := c2.WriteText([]byte("mine")); err != nil {
		t.Fatal(err)
	}
	rig.srv.FlushSends()
	if _, p, err := raw2.ReadFrame(10 * time.Second); err != nil || string(p) != "mine" {
		t.Fatalf("the new connection read %q, %v; want only its own frame", p, err)
	}
	if op, p, err := raw1.ReadFrame(10 * time.Second); err == nil {
		t.Fatalf("the aborted connection still got a frame: op %d %q", op, p)
	}
	if st := rig.srv.SendStats(); st.Sends != 1 {
		t.Errorf("%d sends submitted; want 1 (the closed connection's is skipped)", st.Sends)
	}
}

func TestFullSocketHandsOverToThePollerAndComesBack(t *testing.T) {
	rig := newBatchRig(t, IOUringOn)
	raw, c := rig.dial(t, 4096)
	frame := []byte(strings.Repeat("x", 4000))
	const frames = 100
	for i := 0; i < frames; i++ {
		binary.BigEndian.PutUint32(frame, uint32(i))
		if err := c.WriteText(frame); err != nil {
			t.Fatal(err)
		}
		rig.srv.FlushSends()
	}
	st := rig.srv.SendStats()
	if st.Handoffs == 0 {
		t.Fatalf("a reader that does not read never filled the socket: %+v", st)
	}
	if c.Pending() == 0 {
		t.Fatal("Pending is 0 while the socket is full")
	}
	// The reader catches up: every frame arrives once, in order.
	r := bufio.NewReader(raw.Conn)
	_ = raw.Conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	for i := 0; i < frames; i++ {
		f, err := wsframe.ReadFrame(r)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if got := binary.BigEndian.Uint32(f.Payload); got != uint32(i) || len(f.Payload) != len(frame) {
			t.Fatalf("frame %d: got frame %d of %d bytes", i, got, len(f.Payload))
		}
	}
	waitUntil(t, "nbio's buffer to drain", func() bool { return c.Pending() == 0 })
	// With nbio's buffer empty, the next frame goes through the ring again.
	before := rig.srv.SendStats().Sends
	if err := c.WriteText([]byte("again")); err != nil {
		t.Fatal(err)
	}
	rig.srv.FlushSends()
	if f, err := wsframe.ReadFrame(r); err != nil || string(f.Payload) != "again" {
		t.Fatalf("after the drain: %q, %v", f.Payload, err)
	}
	if rig.srv.SendStats().Sends != before+1 {
		t.Error("the frame after the drain did not go through the ring")
	}
}

func TestBatchedSendToAResetConnectionClosesIt(t *testing.T) {
	rig := newBatchRig(t, IOUringOn)
	raw, c := rig.dial(t, 0)
	// The client goes away without a close handshake; the server's sends
	// fail (EPIPE or ECONNRESET), and the connection ends.
	_ = raw.Conn.(*net.TCPConn).SetLinger(0)
	raw.Conn.Close()
	for i := 0; ; i++ {
		if closed, _ := c.nbioConn().IsClosed(); closed {
			break
		}
		if i == 10000 {
			t.Fatal("sends to a reset connection never closed it")
		}
		_ = c.WriteText([]byte("into the void"))
		rig.srv.FlushSends()
	}
}

// TestBatchedSendsDeliverEveryByteInOrderOnce is the property test of the
// batched path: several connections with tiny socket buffers, frames of
// random sizes written in a random interleaving with random flushes,
// control frames from another goroutine, readers that stop reading for a
// while (EAGAIN, partial sends, the poller's buffer), and connections that
// end with a close frame or are aborted at a random point, a send in
// flight or not. Every data frame must arrive exactly once, in order: all
// of them before a close frame, a prefix of them before an abort. Both
// send paths must pass it.
func TestBatchedSendsDeliverEveryByteInOrderOnce(t *testing.T) {
	for _, mode := range []string{IOUringOn, IOUringOff} {
		for seed := uint64(1); seed <= 4; seed++ {
			t.Run(fmt.Sprintf("%s/seed%d", mode, seed), func(t *testing.T) {
				runBatchProperty(t, mode, seed)
			})
		}
	}
}

// propConn is one connection of the property test.
type propConn struct {
	raw    *wstest.Raw
	c      *Conn
	frames int            // data frames to write
	abort  bool           // end with Abort rather than a close frame
	endAt  int            // after how many frames it ends
	gateAt int            // the reader stops before this frame...
	gate   chan struct{}  // ...until this is closed
	pongs  int            // pongs written, once the writer is done
	pongWG sync.WaitGroup // pongs being written
	// Set by the reader.
	got      []uint32
	gotPongs int
	gotClose bool
	err      error
}

// payload is data frame seq of connection j: its number, then filler that
// depends on both, of a size from the test's random source.
func payload(j, seq, size int) []byte {
	p := make([]byte, max(size, 8))
	binary.BigEndian.PutUint32(p, uint32(seq))
	binary.BigEndian.PutUint32(p[4:], uint32(j))
	for i := 8; i < len(p); i++ {
		p[i] = byte(j*31 + seq*7 + i)
	}
	return p
}

func checkPayload(j int, p []byte) (uint32, error) {
	if len(p) < 8 {
		return 0, fmt.Errorf("a data frame of %d bytes", len(p))
	}
	seq := binary.BigEndian.Uint32(p)
	if got := binary.BigEndian.Uint32(p[4:]); got != uint32(j) {
		return seq, fmt.Errorf("frame %d of connection %d arrived on connection %d", seq, got, j)
	}
	for i := 8; i < len(p); i++ {
		if p[i] != byte(j*31+int(seq)*7+i) {
			return seq, fmt.Errorf("frame %d: byte %d corrupted", seq, i)
		}
	}
	return seq, nil
}

func runBatchProperty(t *testing.T, mode string, seed uint64) {
	rig := newBatchRig(t, mode)
	rng := rand.New(rand.NewPCG(seed, 17))
	const nconns = 4
	conns := make([]*propConn, nconns)
	for j := range conns {
		raw, c := rig.dial(t, 4096)
		n := 20 + rng.IntN(40)
		pc := &propConn{raw: raw, c: c, frames: n, abort: rng.IntN(3) == 0, endAt: n,
			gateAt: rng.IntN(n), gate: make(chan struct{})}
		if pc.abort {
			pc.endAt = rng.IntN(n + 1)
		}
		conns[j] = pc
	}
	var readers sync.WaitGroup
	for j, pc := range conns {
		readers.Add(1)
		go func() {
			defer readers.Done()
			pc.read(j)
		}()
	}
	// Control frames from another goroutine, as the poller's pong answers
	// come, interleaved with the writer's data frames (each settled
	// before its connection's close frame, which ends the reader).
	written := make([]int, nconns)
	ended := make([]bool, nconns)
	for live := nconns; live > 0; {
		j := rng.IntN(nconns)
		pc := conns[j]
		if ended[j] {
			continue
		}
		if written[j] == pc.endAt {
			ended[j] = true
			live--
			pc.pongWG.Wait()
			if pc.abort {
				pc.c.Abort()
			} else {
				pc.c.Close(1000, "done")
			}
			if rng.IntN(2) == 0 {
				rig.srv.FlushSends()
			}
			continue
		}
		if err := pc.c.WriteText(payload(j, written[j], rng.IntN(9000))); err != nil && !pc.abort {
			t.Fatalf("connection %d, frame %d: %v", j, written[j], err)
		}
		written[j]++
		switch rng.IntN(4) {
		case 0: // the round goes on
		case 1:
			pc.pongWG.Add(1)
			pc.pongs++
			go func() {
				defer pc.pongWG.Done()
				_ = pc.c.write(websocket.PongMessage, []byte("pong"))
			}()
			rig.srv.FlushSends()
		default:
			rig.srv.FlushSends()
		}
		if rng.IntN(8) == 0 {
			g := conns[rng.IntN(nconns)]
			closeOnce(g.gate)
		}
	}
	rig.srv.FlushSends()
	for _, pc := range conns {
		closeOnce(pc.gate)
	}
	readers.Wait()
	for j, pc := range conns {
		if pc.err != nil {
			t.Errorf("connection %d: %v", j, pc.err)
			continue
		}
		for i, seq := range pc.got {
			if seq != uint32(i) {
				t.Errorf("connection %d: frame %d arrived where frame %d belongs", j, seq, i)
				break
			}
		}
		if pc.abort {
			if len(pc.got) > pc.endAt {
				t.Errorf("aborted connection %d got %d frames, %d were written", j, len(pc.got), pc.endAt)
			}
			continue
		}
		if !pc.gotClose || len(pc.got) != pc.frames || pc.gotPongs != pc.pongs {
			t.Errorf("connection %d: %d of %d frames, %d of %d pongs, close frame %v",
				j, len(pc.got), pc.frames, pc.gotPongs, pc.pongs, pc.gotClose)
		}
		waitUntil(t, fmt.Sprintf("connection %d's Pending to reach 0", j), func() bool { return pc.c.Pending() == 0 })
	}
	if st := rig.srv.SendStats(); mode == IOUringOn && st.Handoffs == 0 {
		t.Errorf("no send found a full socket, so the hand-over went untested: %+v", st)
	}
}

// read reads the connection's frames until its close frame, or the end of
// the stream, stopping before frame gateAt until the gate opens.
func (pc *propConn) read(j int) {
	r := bufio.NewReader(pc.raw.Conn)
	for {
		if len(pc.got) == pc.gateAt {
			<-pc.gate
		}
		_ = pc.raw.Conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		f, err := wsframe.ReadFrame(r)
		if err != nil {
			if !pc.abort {
				pc.err = fmt.Errorf("after %d frames: %w", len(pc.got), err)
			}
			return
		}
		switch f.Op {
		case wsframe.OpText:
			seq, err := checkPayload(j, f.Payload)
			if err != nil {
				pc.err = err
				return
			}
			pc.got = append(pc.got, seq)
		case wsframe.OpPong:
			pc.gotPongs++
		case wsframe.OpClose:
			pc.gotClose = true
			return
		default:
			pc.err = fmt.Errorf("unexpected opcode %d", f.Op)
			return
		}
	}
}

func closeOnce(ch chan struct{}) {
	select {
	case <-ch:
	default:
		close(ch)
	}
}

// needIOUring skips a test of the io_uring path where the system refuses
// io_uring, or fails it under HERALD_REQUIRE_SERVICES=1, as CI sets it: CI
// must run the io_uring path.
func needIOUring(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("HERALD_REQUIRE_SERVICES") == "1" {
		t.Fatalf("io_uring unavailable: %v", err)
	}
	t.Skipf("io_uring unavailable here: %v", err)
}
