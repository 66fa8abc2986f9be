package herald

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldrt/herald/protocol"
	ws "github.com/heraldrt/herald/transport/websocket"
)

// Session is the server side of one client connection. Handlers receive it
// to learn who the client is and to act on it; its methods are safe for
// concurrent use.
type Session struct {
	node       *Node
	conn       transportConn
	id         string
	remoteAddr string
	header     http.Header // handshake headers, dropped after connect

	// Set once by connect, read-only afterwards.
	user string
	info json.RawMessage

	// connectMu is held while connect runs its server-side subscriptions;
	// Node.Subscribe and Node.Unsubscribe take it before acting on the
	// session. Lock order: connectMu before mu.
	connectMu sync.Mutex

	mu     sync.Mutex
	queue  *msgQueue // encoded messages waiting for the writer; nil when none
	queued int       // bytes in queue
	subs   subList

	// Command rate, used only by the connection's own goroutine (commands
	// of one connection are handled one at a time): the commands counted
	// before a limiter was needed (limits.go), then the limiter.
	commands   int32
	cmdLimiter *commandLimiter

	// handling is non-zero while a frame's commands run; a pong queued
	// behind a slow handler is then not counted as missing.
	handling atomic.Int32

	// The fields below are under mu unless said otherwise; the small ones
	// are kept together so that they share words.
	connected    bool // set once by connect
	flushing     bool // scheduled on the writer or being flushed
	awaitingPong bool
	closing      bool // no more deliveries; a close is on its way
	closeSent    bool
	closed       bool
	wheelIn      bool // linked in the wheel; under the wheel's lock

	// rare is what only some sessions need, nil until one does.
	rare *rareState

	// The waiting heartbeat step (heartbeat.go, wheel.go): the links under
	// the wheel's lock, wheelTick under both locks.
	wheelNext, wheelPrev *Session
	wheelTick            int64
}

// rareState is what a session needs only sometimes, kept out of the
// Session so that an idle connection does not pay for it: the credentials'
// expiry, for connections whose credentials expire (expiry.go), and the
// close code and reason, once the session is closing. Under Session.mu.
type rareState struct {
	expiry
	closeCode   int
	closeReason string
}

// rareLocked returns s.rare, allocating it when needed. mu is held.
func (s *Session) rareLocked() *rareState {
	if s.rare == nil {
		s.rare = &rareState{}
	}
	return s.rare
}

// closeCodeLocked returns the code and reason closeLocked recorded, or 0.
// mu is held.
func (s *Session) closeCodeLocked() (int, string) {
	if s.rare == nil {
		return 0, ""
	}
	return s.rare.closeCode, s.rare.closeReason
}

// transportConn is what a Session needs from its connection; the
// transport's *websocket.Conn is the one implementation outside tests.
type transportConn interface {
	WriteText(data []byte) error
	Pending() int
	Close(code int, reason string)
	Abort()
}

var _ transportConn = (*ws.Conn)(nil)

// subscription is one session's subscription to one channel. Until it is
// live, publications for it are held in pending (in arrival order) so that
// the subscribe reply always precedes them on the wire.
type subscription struct {
	session   *Session
	name      *string       // the channel, shared by the channel's subscriptions (hub.intern)
	pending   *[]pendingPub // under session.mu; nil once live, and while nothing is held
	hubIndex  int32         // its place in the hub's list of the channel, under the hub shard's mu
	joinLeave bool          // deliver join and leave pushes
	presence  bool          // the channel keeps presence: leave it on unsubscribe
	byToken   bool          // authorized with a channel token
	live      bool          // under session.mu
}

// channel returns the subscription's channel.
func (sub *subscription) channel() string { return *sub.name }

// held returns the publications held for the subscription. session.mu is
// held.
func (sub *subscription) held() []pendingPub {
	if sub.pending == nil {
		return nil
	}
	return *sub.pending
}

type pendingPub struct {
	data   []byte
	offset uint64
}

// logger returns the node's logger with the connection's attributes. It is
// built when something is logged, so that an idle connection holds none.
func (s *Session) logger() *slog.Logger {
	if s.user != "" {
		return s.node.log.With("client", s.id, "user", s.user)
	}
	return s.node.log.With("client", s.id)
}

// debug logs at debug level with the connection's attributes. It checks
// the level first: building the connection's logger allocates, and every
// connect and disconnect logs here.
func (s *Session) debug(msg string, args ...any) {
	if s.node.log.Enabled(context.Background(), slog.LevelDebug) {
		s.logger().Debug(msg, args...)
	}
}

// ID returns the connection's id, unique across nodes.
func (s *Session) ID() string { return s.id }

// User returns the user id set at connect ("" for anonymous).
func (s *Session) User() string { return s.user }

// Info returns the connection info set at connect.
func (s *Session) Info() json.RawMessage { return s.info }

// RemoteAddr returns the client's network address.
func (s *Session) RemoteAddr() string { return s.remoteAddr }

// Channels returns the channels the session is subscribed to, sorted.
func (s *Session) Channels() []string {
	s.mu.Lock()
	out := make([]string, 0, len(s.subs))
	for _, sub := range s.subs {
		out = append(out, sub.channel())
	}
	s.mu.Unlock()
	sort.Strings(out)
	return out
}

// Send pushes a `message` to this connection. data must be valid JSON.
func (s *Session) Send(data json.RawMessage) error {
	d, ok := protocol.Compact(data)
	if !ok {
		return ErrInvalidData
	}
	s.enqueue(protocol.EncodePush(&protocol.Push{Op: protocol.OpMessage, Data: d}))
	return nil
}

// Disconnect closes the connection with code and reason: the client gets a
// `disconnect` push and a close frame with the code. Use a code from package
// protocol (3000-3499 to let it reconnect, 3500-3999 to stop it) or your own
// from 4000-4999.
// A code outside 3000-4999 is replaced by CloseForceReconnect.
func (s *Session) Disconnect(code int, reason string) {
	if code < 3000 || code > 4999 {
		code = protocol.CloseForceReconnect
	}
	s.closeWith(code, reason)
}

func (s *Session) clientInfo() *protocol.ClientInfo {
	return &protocol.ClientInfo{Client: s.id, User: s.user, Data: s.info}
}

// enqueue adds one encoded message to the write queue.
func (s *Session) enqueue(data []byte) {
	s.mu.Lock()
	s.pushLocked(data)
	s.mu.Unlock()
}

// deliver hands a publication to the session: straight to the queue when the
// subscription is live, into its pending list while the subscribe is still
// being answered.
//
// With a batch, a session that needs a writer is added to it rather than
// scheduled at once (the caller flushes the batch).
func (s *Session) deliver(sub *subscription, data []byte, offset uint64, b *scheduleBatch) {
	s.mu.Lock()
	if sub.live {
		s.pushLockedTo(data, b)
	} else if !s.closing {
		if sub.pending == nil {
			sub.pending = new([]pendingPub)
		}
		*sub.pending = append(*sub.pending, pendingPub{data: data, offset: offset})
		s.queued += len(data)
		s.checkLimitLocked()
	}
	s.mu.Unlock()
}

// pushLocked appends data to the queue and makes sure a writer will flush it.
// A session that falls further behind than WriteQueueSize is closed as a slow
// consumer instead.
func (s *Session) pushLocked(data []byte) { s.pushLockedTo(data, nil) }

// pushLockedTo is pushLocked that leaves the scheduling to b, when given.
func (s *Session) pushLockedTo(data []byte, b *scheduleBatch) {
	if s.closing {
		return
	}
	s.appendLocked(data)
	if s.checkLimitLocked() {
		return
	}
	if !s.flushing {
		s.flushing = true
		if b != nil {
			b.add(s)
		} else {
			s.node.writer.schedule(s)
		}
	}
}

// appendLocked adds data to the queue, taking a queue from the writer's pool
// when the session has none.
func (s *Session) appendLocked(data []byte) {
	if s.queue == nil {
		s.queue = s.node.writer.getQueue()
	}
	s.queue.msgs = append(s.queue.msgs, data)
	s.queued += len(data)
}

func (s *Session) scheduleLocked() {
	if !s.flushing {
		s.flushing = true
		s.node.writer.schedule(s)
	}
}

// checkLimitLocked closes the session as a slow consumer when what waits for
// it (queued here and unread in the socket's buffer) exceeds the limit.
func (s *Session) checkLimitLocked() bool {
	if s.queued+s.conn.Pending() <= s.node.cfg.WriteQueueSize {
		return false
	}
	// What is queued would never be read in time: drop it, so that the
	// disconnect push and the close frame are next in line.
	if s.queue != nil {
		s.node.writer.putQueue(s.queue)
		s.queue = nil
	}
	s.queued = 0
	for _, sub := range s.subs {
		sub.pending = nil
	}
	s.node.log.Warn("slow consumer disconnected", "client", s.id, "user", s.user)
	s.node.metrics.slowConsumers.Inc()
	s.closeLocked(protocol.CloseSlowConsumer, protocol.CloseReason(protocol.CloseSlowConsumer))
	return true
}

// closeWith starts closing the session: a `disconnect` push, then a close
// frame once everything queued before it is written.
func (s *Session) closeWith(code int, reason string) {
	s.mu.Lock()
	s.closeLocked(code, reason)
	s.mu.Unlock()
}

func (s *Session) closeLocked(code int, reason string) {
	if s.closing || s.closed {
		return
	}
	if reason == "" {
		reason = protocol.CloseReason(code)
	}
	s.closing = true
	r := s.rareLocked()
	r.closeCode, r.closeReason = code, reason
	s.stopTimerLocked()
	s.appendLocked(protocol.DisconnectPush(code, reason))
	s.scheduleLocked()
}

// flush writes everything queued, batching several messages into one frame,
// and sends the close frame once a closing session's queue is empty. Only
// the writer calls it, and never for one session twice at a time.
func (s *Session) flush(w *writer) {
	for {
		s.mu.Lock()
		if s.queue == nil || len(s.queue.msgs) == 0 {
			if s.queue != nil {
				w.putQueue(s.queue)
				s.queue = nil
			}
			s.flushing = false
			sendClose := s.closing && !s.closeSent && !s.closed
			if sendClose {
				s.closeSent = true
			}
			code, reason := s.closeCodeLocked()
			s.mu.Unlock()
			if sendClose {
				s.conn.Close(code, reason)
			}
			return
		}
		batch := s.queue
		s.queue = nil
		s.queued = 0
		s.mu.Unlock()

		err := s.writeBatch(w, batch.msgs)
		w.putQueue(batch)
		if err != nil {
			s.debug("write failed; dropping the connection", "error", err)
			s.conn.Abort()
			s.mu.Lock()
			s.flushing = false
			s.mu.Unlock()
			return
		}
	}
}

func (s *Session) writeBatch(w *writer, batch [][]byte) error {
	m := s.node.metrics
	m.messagesOut.Add(float64(len(batch)))
	for len(batch) > 0 {
		m.framesOut.Inc()
		if len(batch) == 1 {
			m.batchMessages.Observe(1)
			m.bytesOut.Add(float64(len(batch[0])))
			return s.conn.WriteText(batch[0])
		}
		buf, n := w.join(batch)
		m.batchMessages.Observe(float64(n))
		m.bytesOut.Add(float64(len(*buf)))
		err := s.conn.WriteText(*buf)
		w.release(buf)
		if err != nil {
			return err
		}
		batch = batch[n:]
	}
	return nil
}

// handleClose ends the session once its connection is gone: err says why
// when the transport closed it.
func (s *Session) handleClose(err error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.stopTimerLocked()
	s.stopExpiryLocked()
	code, reason := s.closeCodeLocked()
	subs := s.subs
	s.subs = nil
	if s.queue != nil {
		s.node.writer.putQueue(s.queue)
		s.queue = nil
	}
	s.queued = 0
	s.mu.Unlock()

	if code == 0 {
		code, reason = closeCodeOf(err)
	}
	for _, sub := range subs {
		s.node.dropSubscription(s.node.ctx, sub)
	}
	s.node.removeSession(s)
	s.node.metrics.disconnected(code)
	s.node.recent.disconnect(DisconnectRecord{Time: time.Now(), Client: s.id, User: s.user, Code: code, Reason: reason})
	if s.connected {
		if err != nil && code == 1006 {
			s.debug("client disconnected", "code", code, "reason", reason, "error", err)
		} else {
			s.debug("client disconnected", "code", code, "reason", reason)
		}
		if h := s.node.handlers.Load().disconnect; h != nil {
			h(s, DisconnectEvent{Code: code, Reason: reason})
		}
	}
}

// closeCodeOf turns the transport's close error into a close code.
func closeCodeOf(err error) (int, string) {
	var ce *ws.CloseError
	switch {
	case err == nil:
		return 1000, "closed by client"
	case errors.As(err, &ce):
		return ce.Code, ce.Reason
	case errors.Is(err, ws.ErrMessageTooLarge):
		return 1009, "message too large"
	default:
		return 1006, "connection lost"
	}
}
