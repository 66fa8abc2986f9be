package herald

import (
	"context"
	"errors"
	"time"

	"github.com/heraldrt/herald/protocol"
	"github.com/heraldrt/herald/transport"
	ws "github.com/heraldrt/herald/transport/websocket"
)

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

// Disconnect closes every connection of user (or the one connection with id
// client) on every node, with code and reason (see Session.Disconnect). A
// code outside 3000-4999 (0, say) means CloseForceReconnect.
func (n *Node) Disconnect(ctx context.Context, user, client string, code int, reason string) error {
	if user == "" && client == "" {
		return ErrInvalidTarget
	}
	if code < 3000 || code > 4999 {
		code = protocol.CloseForceReconnect
	}
	return n.sendControl(ctx, control{Op: "disconnect", User: user, Client: client, Code: code, Reason: reason})
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
	s.appendLocked(s.enc.DisconnectPush(code, reason))
	s.scheduleLocked()
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
	counted := s.countedUser
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
	if counted {
		s.node.releaseUser(s.node.ctx, s.id, s.user)
	}
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
		s.node.notify(Activity{Kind: ActivityDisconnected, Session: s})
	}
}

// closeCodeOf turns the transport's close error into a close code.
func closeCodeOf(err error) (int, string) {
	var ce *ws.CloseError
	var cc transport.CloseCoder
	switch {
	case err == nil:
		return 1000, "closed by client"
	case errors.As(err, &ce):
		return ce.Code, ce.Reason
	case errors.Is(err, ws.ErrMessageTooLarge):
		return 1009, "message too large"
	case errors.As(err, &cc):
		return cc.CloseCode()
	default:
		return 1006, "connection lost"
	}
}
