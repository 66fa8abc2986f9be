package herald

import (
	"time"

	"github.com/heraldrt/herald/protocol"
)

// Each session has one timer, which holds no goroutine while it waits. It
// first bounds the wait for connect, then alternates between "time to ping"
// and "the pong is late".

// startConnectTimer arms the deadline for the connect command.
func (s *Session) startConnectTimer() {
	s.mu.Lock()
	s.timer = time.AfterFunc(s.node.cfg.ConnectTimeout, s.onTimer)
	s.mu.Unlock()
}

// startHeartbeat switches the timer to pinging; called once connect succeeds.
func (s *Session) startHeartbeat() {
	s.mu.Lock()
	if s.timer != nil && !s.closing {
		s.timer.Reset(s.node.cfg.PingInterval)
	}
	s.mu.Unlock()
}

func (s *Session) onTimer() {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closing || s.closed:
	case !s.connected:
		s.closeLocked(protocol.CloseConnectTimeout, "")
	case s.awaitingPong && s.handling.Load() > 0:
		// The pong may be waiting behind a slow command handler.
		s.timer.Reset(s.node.cfg.PongTimeout)
	case s.awaitingPong:
		s.logger().Debug("no pong from client")
		s.closeLocked(protocol.CloseNoPong, "")
	default:
		s.awaitingPong = true
		s.pushLocked(protocol.PingPush)
		if !s.closing {
			s.timer.Reset(s.node.cfg.PongTimeout)
		}
	}
}

// handlePong records the client's answer and schedules the next ping.
func (s *Session) handlePong() {
	s.mu.Lock()
	if s.awaitingPong && !s.closing {
		s.awaitingPong = false
		s.timer.Reset(s.node.cfg.PingInterval)
	}
	s.mu.Unlock()
}
