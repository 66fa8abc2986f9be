package herald

import (
	"sync"

	"github.com/heraldrt/herald/protocol"
)

// maxBatchFrame bounds a frame that joins several queued messages. A single
// larger message still goes out alone.
const maxBatchFrame = 256 << 10

// writer is the pool of goroutines that move queued messages from sessions to
// their sockets. A session is scheduled at most once at a time (its flushing
// flag); the worker that takes it writes everything queued so far in one
// frame, so messages batch exactly when the writers are behind, and a lone
// message at low load leaves at once.
type writer struct {
	mu      sync.Mutex
	cond    sync.Cond
	pending []*Session
	head    int
	closed  bool
	wg      sync.WaitGroup
	bufs    sync.Pool // *[]byte frames for joining batches
	queues  sync.Pool // *msgQueue, the sessions' write queues
}

func newWriter(workers int) *writer {
	w := &writer{}
	w.cond.L = &w.mu
	w.bufs.New = func() any { b := make([]byte, 0, 4096); return &b }
	w.wg.Add(workers)
	for i := 0; i < workers; i++ {
		go w.run()
	}
	return w
}

// schedule queues s for flushing. It never blocks on I/O.
func (w *writer) schedule(s *Session) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.pending = append(w.pending, s)
	w.mu.Unlock()
	w.cond.Signal()
}

// writerGrab is how many scheduled sessions a worker takes per visit to the
// shared queue: taking them one by one made the two workers contend for
// its lock once per delivery during a fan-out.
const writerGrab = 32

// next waits for scheduled sessions and moves up to writerGrab of them into
// dst; it returns dst empty once the writer stopped and nothing is left.
func (w *writer) next(dst []*Session) []*Session {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.head == len(w.pending) {
		if w.closed {
			return dst
		}
		// Drop the drained queue's backing array when it grew very large
		// (past one entry for each of 64K sessions, 512 KiB), so that one
		// burst does not pin memory forever; below that, a fan-out reuses it.
		if cap(w.pending) > 1<<16 {
			w.pending = nil
		} else {
			clear(w.pending)
			w.pending = w.pending[:0]
		}
		w.head = 0
		w.cond.Wait()
	}
	// Leave some for the other workers when there are few: a worker that
	// took them all would write them one after another while others idle.
	n := min(writerGrab, (len(w.pending)-w.head+1)/2)
	dst = append(dst, w.pending[w.head:w.head+n]...)
	clear(w.pending[w.head : w.head+n])
	w.head += n
	return dst
}

func (w *writer) run() {
	defer w.wg.Done()
	batch := make([]*Session, 0, writerGrab)
	for {
		batch = w.next(batch[:0])
		if len(batch) == 0 {
			return
		}
		for i, s := range batch {
			s.flush(w)
			batch[i] = nil
		}
	}
}

// join writes the batch into one pooled buffer as enc joins messages
// (newline-separated JSON, concatenated length-prefixed Protobuf), stopping
// before maxBatchFrame; it returns the buffer and how many messages it took.
func (w *writer) join(enc protocol.Encoding, batch [][]byte) (*[]byte, int) {
	buf := w.bufs.Get().(*[]byte)
	var n int
	*buf, n = enc.AppendJoined((*buf)[:0], batch, maxBatchFrame)
	return buf, n
}

func (w *writer) release(buf *[]byte) {
	if cap(*buf) <= maxBatchFrame*2 {
		w.bufs.Put(buf)
	}
}

// stop ends the workers once the queue is drained.
func (w *writer) stop() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.cond.Broadcast()
	w.wg.Wait()
}

// scheduleBatch gathers sessions to schedule during a fan-out and hands them
// to their writer a few at a time. It lives on the fan-out's stack.
type scheduleBatch struct {
	w        *writer
	sessions [64]*Session
	n        int
}

// add queues s, handing the batch over when it is full. s's lock is held,
// which is fine: the writer's lock comes after it in the lock order.
func (b *scheduleBatch) add(s *Session) {
	b.w = s.node.writer
	b.sessions[b.n] = s
	b.n++
	if b.n == len(b.sessions) {
		b.flush()
	}
}

// flush hands the gathered sessions to the writer.
func (b *scheduleBatch) flush() {
	if b.n == 0 {
		return
	}
	b.w.scheduleMany(b.sessions[:b.n])
	clear(b.sessions[:b.n])
	b.n = 0
}

// scheduleMany queues several sessions for flushing under one lock.
func (w *writer) scheduleMany(sessions []*Session) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.pending = append(w.pending, sessions...)
	w.mu.Unlock()
	if len(sessions) > 1 {
		w.cond.Broadcast()
	} else {
		w.cond.Signal()
	}
}
