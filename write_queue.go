package herald

import "github.com/heraldrt/herald/protocol"

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

// writeBatch writes the queued messages in as few frames as the batch
// bound allows, joined as the session's encoding joins them, in its kind of
// frame.
func (s *Session) writeBatch(w *writer, batch [][]byte) error {
	m := s.node.metrics
	m.messagesOut.Add(float64(len(batch)))
	for len(batch) > 0 {
		m.framesOut.Inc()
		if len(batch) == 1 {
			m.batchMessages.Observe(1)
			m.bytesOut.Add(float64(len(batch[0])))
			return s.writeFrame(batch[0])
		}
		buf, n := w.join(s.enc, batch)
		m.batchMessages.Observe(float64(n))
		m.bytesOut.Add(float64(len(*buf)))
		err := s.writeFrame(*buf)
		w.release(buf)
		if err != nil {
			return err
		}
		batch = batch[n:]
	}
	return nil
}

// writeFrame sends one frame: a binary one in the binary encoding, which
// only a WebSocket connection negotiates, a text one otherwise.
func (s *Session) writeFrame(frame []byte) error {
	if s.enc.Binary() {
		return s.conn.(binaryConn).WriteBinary(frame)
	}
	return s.conn.WriteText(frame)
}

// msgQueue holds a session's encoded messages until a writer takes them.
// The writer lends a session one from a pool when a message comes and
// takes it back once the messages are written, so an idle connection
// holds none and a busy one allocates none.
type msgQueue struct {
	msgs [][]byte
}

// maxPooledQueue bounds the queues kept for reuse, in messages.
const maxPooledQueue = 64

func (w *writer) getQueue() *msgQueue {
	if q, _ := w.queues.Get().(*msgQueue); q != nil {
		return q
	}
	return &msgQueue{}
}

// putQueue takes back a queue whose messages are written or dropped.
func (w *writer) putQueue(q *msgQueue) {
	if cap(q.msgs) > maxPooledQueue {
		return
	}
	clear(q.msgs)
	q.msgs = q.msgs[:0]
	w.queues.Put(q)
}
