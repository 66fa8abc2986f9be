package herald

import (
	"github.com/heraldrt/herald/protocol"
)

// Each session has one step waiting on the node's wheel (wheel.go), which
// costs it no timer and no goroutine. The step first bounds the wait for
// connect, then alternates between "time to ping" and "the pong is late".

// startConnectTimer arms the deadline for the connect command.
func (s *Session) startConnectTimer() {
	s.mu.Lock()
	if !s.closing && !s.closed {
		s.node.wheel.schedule(s, s.node.cfg.ConnectTimeout)
	}
	s.mu.Unlock()
}

// startHeartbeat switches the step to pinging; called once connect succeeds.
func (s *Session) startHeartbeat() {
	s.mu.Lock()
	if !s.closing && !s.closed {
		s.node.wheel.schedule(s, s.node.cfg.PingInterval)
	}
	s.mu.Unlock()
}

// stopTimerLocked cancels the waiting step. s.mu is held.
func (s *Session) stopTimerLocked() {
	s.node.wheel.cancel(s)
}

// onTimer runs the step that was due at tick, unless it was replaced or
// cancelled since. Pushes go to the writer through b.
func (s *Session) onTimer(tick int64, b *scheduleBatch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.wheelTick != tick {
		return // rescheduled (to a later tick) or cancelled after the wheel took it out
	}
	w := &s.node.wheel
	switch {
	case s.closing || s.closed:
	case !s.connected:
		s.closeLocked(protocol.CloseConnectTimeout, "")
	case s.awaitingPong && s.handling.Load() > 0:
		// The pong may be waiting behind a slow command handler.
		w.schedule(s, s.node.cfg.PongTimeout)
	case s.awaitingPong:
		s.debug("no pong from client")
		s.closeLocked(protocol.CloseNoPong, "")
	default:
		s.awaitingPong = true
		s.pushLockedTo(s.enc.PingPush(), b)
		if !s.closing {
			w.schedule(s, s.node.cfg.PongTimeout)
		}
	}
}

// handlePong records the client's answer and schedules the next ping.
func (s *Session) handlePong() {
	s.mu.Lock()
	if s.awaitingPong && !s.closing {
		s.awaitingPong = false
		s.node.wheel.schedule(s, s.node.cfg.PingInterval)
	}
	s.mu.Unlock()
}
