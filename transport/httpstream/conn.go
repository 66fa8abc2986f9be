package httpstream

import (
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/heraldrt/herald/protocol"
	"github.com/heraldrt/herald/transport"
)

// Conn is the write side of one stream. Its methods are safe for concurrent
// use and never block on the network: WriteText queues bytes for the
// goroutine that serves the stream's response, and Pending reports how many
// it has not written yet.
type Conn struct {
	srv    *Server
	format format
	id     string // the session id, sent in the hello
	secret string // what POSTs for this stream must carry
	peer   Peer
	rc     *http.ResponseController

	in inbox // POSTed commands waiting to run (commands.go)

	mu        sync.Mutex
	buf       []byte // encoded bytes waiting for the stream's goroutine
	writing   int    // bytes of the write in progress
	closing   bool   // Close was called: end once buf is written
	closeErr  error  // why abort ended the stream
	finished  bool   // run returned: the response is no longer ours
	timer     *time.Timer
	wake      chan struct{}
	aborted   chan struct{} // closed by abort
	abortOnce sync.Once
}

// Errors a Peer's HandleClose may receive.
var (
	// ErrAborted: the server dropped the stream (a write failed or timed
	// out, or too much was pending).
	ErrAborted = errors.New("httpstream: stream dropped by the server")
	// ErrClientGone: the client ended the request.
	ErrClientGone = errors.New("httpstream: the client closed the stream")
	// ErrSlowConsumer: more than Config.MaxPendingBytes waited for a client
	// that does not read, and the stream was dropped. It carries the
	// protocol's slow-consumer close code (transport.CloseCoder).
	ErrSlowConsumer error = &transport.CloseCause{
		Code:   protocol.CloseSlowConsumer,
		Reason: protocol.CloseReason(protocol.CloseSlowConsumer),
		Msg:    "httpstream: the client did not read fast enough",
	}
	// errClosed is WriteText's answer once the stream is closing.
	errClosed = errors.New("httpstream: stream closed")
)

// Transport names the stream's format: "http-stream" or "sse".
func (c *Conn) Transport() string { return c.format.String() }

// Pending returns the bytes written to the stream that its socket has not
// taken yet.
func (c *Conn) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.buf) + c.writing
}

// WriteText queues one frame of newline-separated messages.
func (c *Conn) WriteText(data []byte) error {
	c.mu.Lock()
	if c.closing || c.closeErr != nil {
		c.mu.Unlock()
		return errClosed
	}
	c.buf = c.format.appendFrame(c.buf, data)
	over := len(c.buf)+c.writing > c.srv.cfg.MaxPendingBytes+64<<10
	c.mu.Unlock()
	if over {
		c.abort(ErrSlowConsumer)
		return ErrSlowConsumer
	}
	c.signal()
	return nil
}

// Close ends the stream once what was written before it is sent, within
// Config.CloseGrace. The code and reason travel in the disconnect push the
// Peer wrote first: a stream has no close frame.
func (c *Conn) Close(code int, reason string) {
	c.mu.Lock()
	already := c.closing
	c.closing = true
	c.mu.Unlock()
	if !already {
		t := time.AfterFunc(c.srv.cfg.CloseGrace, func() { c.abort(ErrAborted) })
		c.mu.Lock()
		c.timer = t
		c.mu.Unlock()
		c.signal()
	}
}

// Abort drops the stream at once.
func (c *Conn) Abort() { c.abort(ErrAborted) }

func (c *Conn) abort(err error) {
	c.abortOnce.Do(func() {
		c.mu.Lock()
		c.closeErr = err
		close(c.aborted)
		if !c.finished {
			// Unblock a write the client is not reading.
			_ = c.rc.SetWriteDeadline(time.Now())
		}
		c.mu.Unlock()
	})
}

func (c *Conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// serveStream opens a stream and writes it until it ends.
func (s *Server) serveStream(w http.ResponseWriter, r *http.Request, f format) {
	c := &Conn{
		srv: s, format: f, rc: http.NewResponseController(w),
		wake: make(chan struct{}, 1), aborted: make(chan struct{}),
	}
	peer, status, msg := s.accept(r, c)
	if peer == nil {
		transport.Refuse(w, status, msg)
		return
	}
	c.peer = peer
	if !s.register(c) {
		peer.HandleClose(ErrStopped)
		w.Header().Set("Retry-After", "1")
		http.Error(w, "httpstream: server is shutting down; reconnect to another node", http.StatusServiceUnavailable)
		return
	}
	err := c.run(w, r)
	c.mu.Lock()
	c.finished = true
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Unlock()
	s.unregister(c)
	c.in.close()
	peer.HandleClose(err)
}

// run writes the stream: the hello, then whatever WriteText queues, until
// Close's queue is written, the client leaves or the stream is aborted. It
// returns the close error for the Peer.
func (c *Conn) run(w http.ResponseWriter, r *http.Request) error {
	c.format.setHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
	if err := c.write(w, c.format.hello(c.id, c.secret)); err != nil {
		return ErrClientGone
	}
	var out []byte
	for {
		select {
		case <-c.wake:
		case <-c.aborted:
			return c.abortErr()
		case <-r.Context().Done():
			return ErrClientGone
		}
		for {
			c.mu.Lock()
			out, c.buf = c.buf, out[:0]
			c.writing = len(out)
			closing := c.closing
			c.mu.Unlock()
			if len(out) == 0 {
				if closing {
					return nil
				}
				break
			}
			err := c.write(w, out)
			c.mu.Lock()
			c.writing = 0
			c.mu.Unlock()
			if err != nil {
				c.abort(ErrAborted)
				return c.abortErr()
			}
		}
	}
}

func (c *Conn) abortErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeErr
}

// write sends b and flushes it, bounded by Config.WriteTimeout.
func (c *Conn) write(w http.ResponseWriter, b []byte) error {
	select {
	case <-c.aborted:
		return c.abortErr()
	default:
	}
	c.mu.Lock()
	if c.closeErr != nil {
		c.mu.Unlock()
		return c.closeErr
	}
	// Under mu, so that abort's deadline cannot be overwritten.
	_ = c.rc.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout))
	c.mu.Unlock()
	if _, err := w.Write(b); err != nil {
		return err
	}
	return c.rc.Flush()
}
