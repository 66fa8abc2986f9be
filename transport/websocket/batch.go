package websocket

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/heraldrt/herald/internal/uring"
	"github.com/lesismal/nbio"
	nbws "github.com/lesismal/nbio/nbhttp/websocket"
)

// The batched send path: instead of one write(2) per frame, the frames
// that Conn.WriteText queues wait until the writer's round ends
// (Server.FlushSends), and then every connection's bytes go to the kernel
// in one io_uring_enter. What the measurement that motivated it found,
// and how this file answers:
//
//   - At most one send per connection is in the kernel at a time, so its
//     bytes never reorder: frames written meanwhile wait in the
//     connection's backlog and leave in the next send.
//   - Every send carries MSG_DONTWAIT: a full socket answers EAGAIN at
//     once, and a partial send says how much went. The bytes that did not
//     go, and the backlog behind them, are handed to nbio's Write, the
//     event-driven path that waits for writability; from then on the
//     connection writes through nbio until nbio's buffer is empty again
//     (Pending is 0), so the two paths never interleave.
//   - Completions are matched to connections by their user data, an index
//     into the round, never by their order.
//   - A round's buffers stay referenced by the ring and the connection
//     until their completions arrive; Submit returns only then.
//   - nbio may close a connection at any moment, and the kernel reuses a
//     closed fd number for the next socket. A round holds each
//     connection's nbio lock from checking that it is open until the
//     kernel has taken its send, so a send never reaches another socket
//     that got the same number; a connection closed before that is
//     skipped, and its bytes are dropped with it.
//
// One write does not go through this ordering: the close frame that nbio
// itself writes, and closes the connection after, when a client sends a
// message over the size limit (1009) or a close frame with an invalid code
// (1002). On a connection with a send in flight that close frame can come
// first, or after part of a frame; such a client broke the protocol and is
// being dropped either way.
//
// Locks: Conn.mu (which guards the send state) comes before nbio's
// WebSocket and connection locks (a write through nbio holds it); a round
// holds the nbio connection locks of all its connections at once, and no
// other lock while it does; batchSender.mu is taken alone.

// sendState is where a connection's ring send is.
type sendState uint8

const (
	sendIdle      sendState = iota // nothing in the ring: write through nbio, or queue a new send
	sendQueued                     // waiting in the sender's ready list; frames append to out
	sendSubmitted                  // in the kernel; frames append to backlog
)

// IOUringMode values for Config.IOUring.
const (
	IOUringAuto = "auto" // io_uring where the system allows it, else write(2)
	IOUringOn   = "on"   // io_uring, or NewServer fails
	IOUringOff  = "off"  // write(2) always
)

// Send path names, as Server.SendPath reports them.
const (
	SendPathIOUring = "io_uring"
	SendPathWrite   = "write"
)

// ringEntries is each ring's capacity: the most sends one io_uring_enter
// submits. The writer's rounds are smaller (32 sessions).
const ringEntries = 512

// closedBeforeSubmit is the result a round records for a connection that
// nbio closed before the kernel took its send.
const closedBeforeSubmit = -int32(syscall.EBADF)

// SendStats counts the batched send path's work since the server started.
type SendStats struct {
	// Rounds is the io_uring_enter calls that submitted sends.
	Rounds uint64
	// Sends is the sends submitted through io_uring.
	Sends uint64
	// Handoffs is the sends that left bytes behind (a full socket: EAGAIN
	// or a partial send), which were then handed to the poller's
	// buffered write.
	Handoffs uint64
}

// batchSender collects the connections that have frames to send and
// submits them through io_uring. It is safe for concurrent use: several
// writer goroutines may flush at once, each with a ring of its own.
type batchSender struct {
	mu    sync.Mutex
	ready []*Conn // connections in sendQueued, in the order they queued

	rings  chan *round   // one per concurrent flusher
	nrings int           // how many exist
	closed bool          // guarded by mu: Stop released the rings
	done   chan struct{} // closed by close
	pool   sync.Pool     // *ringSend, with their buffers

	rounds, sends, handoffs atomic.Uint64
}

// round is one ring with the scratch space of a round on it.
type round struct {
	ring   *uring.Ring
	conns  []*Conn // user data i is conns[i]
	res    []int32
	locked []*nbio.Conn // whose lock the round holds
}

// chooseSendPath resolves mode (empty: the HERALD_IO_URING environment
// variable, else auto) and builds the batch sender when it is io_uring.
// It returns a nil sender for the write(2) path, with why when that path
// was not asked for.
func chooseSendPath(mode string) (b *batchSender, why string, err error) {
	source := "Config.IOUring"
	if mode == "" {
		mode, source = os.Getenv("HERALD_IO_URING"), "HERALD_IO_URING"
	}
	switch mode {
	case "", IOUringAuto, IOUringOn:
	case IOUringOff:
		return nil, "io_uring is off", nil
	default:
		return nil, "", fmt.Errorf("websocket: %s is %q; want auto, on or off", source, mode)
	}
	b, err = newBatchSender(runtime.GOMAXPROCS(0))
	if err != nil {
		if mode == IOUringOn {
			return nil, "", fmt.Errorf("websocket: IOUring is on, but %w", err)
		}
		return nil, err.Error(), nil
	}
	return b, "", nil
}

func newBatchSender(rings int) (*batchSender, error) {
	b := &batchSender{rings: make(chan *round, rings), done: make(chan struct{})}
	b.pool.New = func() any { return &ringSend{out: make([]byte, 0, 1024)} }
	for i := 0; i < rings; i++ {
		r, err := uring.New(ringEntries)
		if err != nil {
			b.close()
			return nil, err
		}
		b.rings <- &round{ring: r, conns: make([]*Conn, 0, r.Cap()), res: make([]int32, r.Cap())}
		b.nrings++
	}
	return b, nil
}

// close releases the rings once the flushes in progress are over; a
// flush that comes later drops what is ready (the poller is stopped, and
// the connections with it).
func (b *batchSender) close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	close(b.done)
	b.mu.Unlock()
	for i := 0; i < b.nrings; i++ {
		(<-b.rings).ring.Close()
	}
}

func (b *batchSender) getSend() *ringSend { return b.pool.Get().(*ringSend) }

// putSend takes back a finished send; very large buffers are left to the
// garbage collector, so that one burst does not pin memory.
func (b *batchSender) putSend(rs *ringSend) {
	if cap(rs.out) > 64<<10 || cap(rs.backlog) > 64<<10 {
		return
	}
	rs.state, rs.out, rs.backlog = sendIdle, rs.out[:0], rs.backlog[:0]
	b.pool.Put(rs)
}

// add puts a connection that just entered sendQueued on the ready list.
func (b *batchSender) add(c *Conn) {
	b.mu.Lock()
	b.ready = append(b.ready, c)
	b.mu.Unlock()
}

// flush submits every ready connection's send, round after round, until
// none is ready (a connection whose send completed with a backlog is ready
// again).
func (b *batchSender) flush() {
	for {
		var r *round
		select {
		case r = <-b.rings:
		case <-b.done:
			b.mu.Lock()
			clear(b.ready)
			b.ready = b.ready[:0]
			b.mu.Unlock()
			return
		}
		b.mu.Lock()
		if b.closed {
			// close is waiting for this ring.
			b.mu.Unlock()
			b.rings <- r
			continue
		}
		n := copy(r.conns[:cap(r.conns)], b.ready)
		left := copy(b.ready, b.ready[n:])
		clear(b.ready[left:])
		b.ready = b.ready[:left]
		b.mu.Unlock()
		if n > 0 {
			b.submit(r, r.conns[:n])
		}
		b.rings <- r
		if n == 0 {
			return
		}
	}
}

// submit sends conns' queued bytes in one io_uring_enter and settles each
// connection by its completion.
func (b *batchSender) submit(r *round, conns []*Conn) {
	r.locked = r.locked[:0]
	for i, c := range conns {
		out := c.startSend()
		// Hold nbio's lock until the kernel took the send: nbio closes
		// the fd only after marking the connection closed under it.
		nc := c.nbioConn()
		nc.Lock()
		if closed, _ := nc.IsClosed(); closed {
			nc.Unlock()
			r.res[i] = closedBeforeSubmit
			continue
		}
		r.locked = append(r.locked, nc)
		r.res[i] = -int32(syscall.ECANCELED) // until its completion says otherwise
		r.ring.QueueSend(nc.Hash(), out, uint64(i))
	}
	done, err := r.ring.Submit()
	for _, nc := range r.locked {
		nc.Unlock()
	}
	if err != nil {
		c := conns[0]
		c.srv.cfg.Logger.Warn("io_uring submission failed; the round's bytes go through the poller", "error", err)
	}
	for _, d := range done {
		r.res[d.UserData] = d.Res
	}
	if len(r.locked) > 0 { // else every connection was closed, and nothing entered the kernel
		b.sends.Add(uint64(len(r.locked)))
		b.rounds.Add(1)
	}
	for i, c := range conns {
		c.sendDone(b, r.res[i])
		conns[i] = nil
	}
	clear(r.locked)
}

// stats returns the counters.
func (b *batchSender) stats() SendStats {
	return SendStats{Rounds: b.rounds.Load(), Sends: b.sends.Load(), Handoffs: b.handoffs.Load()}
}

// ringSend is a connection's send on the batched path, from the first
// frame queued until its last byte is with the kernel or with nbio. It
// is taken from the sender's pool, buffers and all, so that an idle
// connection holds none.
type ringSend struct {
	state   sendState
	out     []byte // the bytes of the queued or submitted send
	backlog []byte // frames written while out is in the kernel
}

// nbioConn returns the poller's connection under c (c.ring promises one).
func (c *Conn) nbioConn() *nbio.Conn { return c.ws.UnderlayerConn().(*nbio.Conn) }

// writeRing is Conn.write on the batched path. A data frame (queue) waits
// for the next FlushSends when the connection has nothing in flight and
// nothing in nbio's buffer; any frame written while a send is queued or in
// the kernel joins it or the backlog behind it; anything else goes
// through nbio at once.
func (c *Conn) writeRing(typ nbws.MessageType, data []byte, queue bool) error {
	size := frameSize(len(data))
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pending.Add(int64(size))
	if rs := c.send; rs != nil {
		if rs.state == sendQueued {
			rs.out = appendFrame(rs.out, typ, data)
		} else {
			rs.backlog = appendFrame(rs.backlog, typ, data)
		}
		return nil
	}
	if !queue || c.pending.Load() != int64(size) {
		// nbio still holds bytes of this connection (or nobody will
		// flush): its buffered write keeps them in order.
		return c.ws.WriteMessage(typ, data)
	}
	b := c.srv.sender
	rs := b.getSend()
	rs.out = appendFrame(rs.out, typ, data)
	rs.state = sendQueued
	c.send = rs
	b.add(c)
	return nil
}

// startSend moves a queued connection into the kernel's hands and returns
// the bytes to send; frames written from now on go to the backlog.
func (c *Conn) startSend() []byte {
	c.mu.Lock()
	c.send.state = sendSubmitted
	out := c.send.out
	c.mu.Unlock()
	return out
}

// sendDone settles a connection's send by its result: all sent (the
// backlog, if any, becomes the next send), some or none sent (the rest
// goes to nbio's buffered write), or failed (the connection is closed).
func (c *Conn) sendDone(b *batchSender, res int32) {
	var fail error
	requeue := false
	c.mu.Lock()
	rs := c.send
	switch {
	case res == int32(len(rs.out)):
		c.pending.Add(-int64(res))
		if len(rs.backlog) > 0 {
			rs.out, rs.backlog = rs.backlog, rs.out[:0]
			rs.state = sendQueued
			requeue = true
		} else {
			c.send = nil
			b.putSend(rs)
		}
	case res == closedBeforeSubmit:
		c.send = nil
		b.putSend(rs)
	case res >= 0 || res == -int32(syscall.EAGAIN) || res == -int32(syscall.EINTR) || res == -int32(syscall.ECANCELED):
		n := max(int(res), 0)
		c.pending.Add(-int64(n))
		rest := append(rs.out[n:], rs.backlog...)
		b.handoffs.Add(1)
		// nbio writes what the socket takes now and buffers the rest
		// (copying it) until the socket is writable; a closed
		// connection refuses it, and the bytes go with the connection.
		_, _ = c.nbioConn().Write(rest)
		c.send = nil
		b.putSend(rs)
	default:
		c.send = nil
		b.putSend(rs)
		fail = syscall.Errno(-res)
	}
	c.mu.Unlock()
	if requeue {
		b.add(c)
	}
	if fail != nil {
		c.srv.cfg.Logger.Debug("websocket send failed; dropping the connection", "error", fail)
		c.ws.CloseWithError(fail)
	}
}
