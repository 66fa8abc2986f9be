package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/heraldrt/herald/protocol"
)

// maxBatch bounds a frame that joins several queued commands, well under the
// server's default message limit (64 KiB). A larger command goes alone.
const maxBatch = 16 << 10

// closeGrace is how long Close waits for the server to answer its close
// frame before it drops the connection.
const closeGrace = time.Second

var (
	// errConnClosed means a command was not sent because its connection had
	// already ended; the caller may send it on the next one.
	errConnClosed = errors.New("herald client: connection closed")
)

// replyFunc receives the reply to one command, on the connection's reader
// goroutine, or a nil frame and ErrConnectionLost when the connection ended
// first. It must not block.
type replyFunc func(rf *protocol.ReplyFrame, err error)

// conn is one connection (a WebSocket or a fallback stream): a reader goroutine that decodes what the
// server sends and answers pings, a writer goroutine that sends queued
// commands (several in one frame when they queue up), and the commands that
// wait for replies.
type conn struct {
	c      *Client
	w      wire
	enc    protocol.Encoding // w's, both ways
	pong   []byte            // the pong command in enc
	ctx    context.Context   // ends when the connection does
	cancel context.CancelFunc

	// readTimeout bounds the silence between two frames from the server
	// (nanoseconds; 0: no bound).
	readTimeout atomic.Int64

	mu       sync.Mutex
	pending  map[uint64]replyFunc
	queue    [][]byte
	dead     bool
	code     int // close code, set once
	reason   string
	byServer bool // code came from the server (disconnect push or close frame)

	wake       chan struct{} // wakes the writer; capacity 1
	refreshAsk chan struct{} // the server's refresh push; capacity 1
	writerDone chan struct{}
	done       chan struct{} // closed when both goroutines exited and every reply waiter was told
}

func newConn(c *Client, w wire, readTimeout time.Duration) *conn {
	enc := w.encoding()
	pong, _ := encodeCommand(enc, &protocol.Command{Op: protocol.OpPong})
	cn := &conn{
		c: c, w: w, enc: enc, pong: pong,
		pending:    make(map[uint64]replyFunc),
		wake:       make(chan struct{}, 1),
		refreshAsk: make(chan struct{}, 1),
		writerDone: make(chan struct{}),
		done:       make(chan struct{}),
	}
	cn.ctx, cn.cancel = context.WithCancel(context.Background())
	cn.readTimeout.Store(int64(readTimeout))
	go cn.writeLoop()
	go cn.readLoop()
	return cn
}

// call sends cmd, in the connection's encoding, with a fresh id and
// arranges for fn to receive the reply. It returns the id, or
// errConnClosed when the connection has ended (the command was not sent).
func (cn *conn) call(cmd *protocol.Command, fn replyFunc) (uint64, error) {
	cmd.ID = cn.c.nextID.Add(1)
	b, err := encodeCommand(cn.enc, cmd)
	if err != nil {
		return 0, err
	}
	cn.mu.Lock()
	if cn.dead {
		cn.mu.Unlock()
		return 0, errConnClosed
	}
	cn.pending[cmd.ID] = fn
	cn.queue = append(cn.queue, b)
	cn.mu.Unlock()
	cn.signal()
	return cmd.ID, nil
}

// post sends a command that has no reply (send), in the connection's
// encoding.
func (cn *conn) post(cmd *protocol.Command) error {
	msg, err := encodeCommand(cn.enc, cmd)
	if err != nil {
		return err
	}
	return cn.postEncoded(msg)
}

// postEncoded queues an encoded message that has no reply.
func (cn *conn) postEncoded(msg []byte) error {
	cn.mu.Lock()
	if cn.dead {
		cn.mu.Unlock()
		return errConnClosed
	}
	cn.queue = append(cn.queue, msg)
	cn.mu.Unlock()
	cn.signal()
	return nil
}

// forget drops the reply waiter of id, whose caller gave up.
func (cn *conn) forget(id uint64) {
	cn.mu.Lock()
	delete(cn.pending, id)
	cn.mu.Unlock()
}

func (cn *conn) pendingCount() int {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	return len(cn.pending)
}

func (cn *conn) signal() {
	select {
	case cn.wake <- struct{}{}:
	default:
	}
}

func (cn *conn) isDead() bool {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	return cn.dead
}

// setClose records why the connection ends; the first call wins.
func (cn *conn) setClose(code int, reason string, byServer bool) {
	cn.mu.Lock()
	if cn.code == 0 {
		if reason == "" {
			reason = protocol.CloseReason(code)
		}
		cn.code, cn.reason, cn.byServer = code, reason, byServer
	}
	cn.mu.Unlock()
}

// closeInfo returns the close code and reason, once done is closed.
func (cn *conn) closeInfo() (code int, reason string, byServer bool) {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	return cn.code, cn.reason, cn.byServer
}

// abort drops the connection at once; the reader then winds it up.
func (cn *conn) abort(code int, reason string) {
	cn.setClose(code, reason, false)
	cn.cancel()
}

// close closes the connection with a close handshake, bounded by
// closeGrace, and waits until it is wound up.
func (cn *conn) close(code int, reason string) {
	cn.setClose(code, reason, false)
	t := time.AfterFunc(closeGrace, cn.cancel)
	_ = cn.w.close(code)
	t.Stop()
	cn.cancel()
	<-cn.done
}

func (cn *conn) writeLoop() {
	defer close(cn.writerDone)
	var buf []byte
	for {
		select {
		case <-cn.wake:
		case <-cn.ctx.Done():
			return
		}
		for {
			cn.mu.Lock()
			batch := cn.queue
			cn.queue = nil
			cn.mu.Unlock()
			if len(batch) == 0 {
				break
			}
			for len(batch) > 0 {
				var n int
				buf, n = cn.enc.AppendJoined(buf[:0], batch, maxBatch)
				if err := cn.write(buf); err != nil {
					if cn.ctx.Err() == nil {
						cn.abort(1006, "write failed: "+err.Error())
					}
					return
				}
				batch = batch[n:]
			}
		}
	}
}

func (cn *conn) write(frame []byte) error {
	ctx, cancel := context.WithTimeout(cn.ctx, cn.c.opts.WriteTimeout)
	defer cancel()
	return cn.w.write(ctx, frame)
}

func (cn *conn) readLoop() {
	for {
		ctx, cancel := cn.ctx, context.CancelFunc(func() {})
		timeout := time.Duration(cn.readTimeout.Load())
		if timeout > 0 {
			ctx, cancel = context.WithTimeout(cn.ctx, timeout)
		}
		frame, err := cn.w.read(ctx)
		silent := ctx.Err() == context.DeadlineExceeded && cn.ctx.Err() == nil
		cancel()
		if err != nil {
			cn.setClose(cn.readErrorCode(err, silent, timeout))
			cn.finish()
			return
		}
		err = cn.enc.SplitMessages(frame, func(msg []byte) error {
			rf := new(protocol.ReplyFrame)
			if err := decodeMessage(cn.enc, msg, rf); err != nil {
				cn.c.report(fmt.Errorf("herald client: ignored a malformed message from the server: %w", err))
				return nil
			}
			cn.handle(rf)
			return nil
		})
		if err != nil {
			// The rest of a binary frame cannot be found past a broken
			// length prefix.
			cn.c.report(fmt.Errorf("herald client: ignored the rest of a malformed frame from the server: %w", err))
		}
	}
}

// readErrorCode turns the error that ended reading into a close code and
// reason (unless the server already gave one in a disconnect push).
func (cn *conn) readErrorCode(err error, silent bool, timeout time.Duration) (int, string, bool) {
	var ce websocket.CloseError
	switch {
	case errors.As(err, &ce):
		return int(ce.Code), ce.Reason, true
	case silent:
		return 1006, fmt.Sprintf("no message from the server in %v; the connection is presumed dead", timeout), false
	case errors.Is(err, websocket.ErrMessageTooBig), errors.Is(err, errStreamTooBig):
		return 1009, fmt.Sprintf("a frame from the server exceeded Options.MaxMessageSize (%d bytes)", cn.c.opts.MaxMessageSize), false
	default:
		return 1006, "connection lost: " + err.Error(), false
	}
}

// finish winds the connection up: no more commands, the writer stops, and
// every command waiting for a reply gets ErrConnectionLost.
func (cn *conn) finish() {
	cn.mu.Lock()
	cn.dead = true
	pending := cn.pending
	cn.pending = nil
	cn.queue = nil
	cn.mu.Unlock()
	cn.cancel()
	cn.w.closeNow()
	<-cn.writerDone
	for _, fn := range pending {
		fn(nil, ErrConnectionLost)
	}
	close(cn.done)
}

// handle routes one message from the server.
func (cn *conn) handle(rf *protocol.ReplyFrame) {
	if rf.ID != 0 {
		cn.mu.Lock()
		fn := cn.pending[rf.ID]
		delete(cn.pending, rf.ID)
		cn.mu.Unlock()
		if fn != nil {
			fn(rf, nil)
		}
		return
	}
	switch rf.Op {
	case protocol.OpPing:
		_ = cn.postEncoded(cn.pong)
	case protocol.OpDisconnect:
		cn.setClose(rf.Code, rf.Reason, true)
	default:
		cn.c.handlePush(cn, rf)
	}
}
