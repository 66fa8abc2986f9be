package herald

import (
	"context"
	"time"

	"github.com/heraldrt/herald/protocol"
)

// Connections whose credentials expire (ConnectReply.ExpiresAt) carry a
// second timer, armed only for them: it first sends the `refresh` push,
// Config.RefreshAhead before the expiry, then closes the connection with
// 3005 at the expiry unless a refresh moved it.

// setExpiry arms (or disarms, for a zero time) the expiry timer.
func (s *Session) setExpiry(at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expiresAt = at
	if s.expiryTimer != nil {
		s.expiryTimer.Stop()
		s.expiryTimer = nil
	}
	s.refreshAsked = false
	if at.IsZero() || s.closing {
		return
	}
	s.expiryTimer = time.AfterFunc(s.untilNextExpiryStep(time.Now()), s.onExpiryTimer)
}

// untilNextExpiryStep is the wait before asking for a refresh, or before
// closing once asked. mu is held.
func (s *Session) untilNextExpiryStep(now time.Time) time.Duration {
	left := s.expiresAt.Sub(now)
	if s.refreshAsked {
		return max(left, 0)
	}
	ahead := min(s.node.cfg.RefreshAhead, left/2)
	return max(left-ahead, 0)
}

func (s *Session) onExpiryTimer() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing || s.closed || s.expiresAt.IsZero() {
		return
	}
	now := time.Now()
	if !now.Before(s.expiresAt) {
		s.closeLocked(protocol.CloseTokenExpired, "")
		return
	}
	if !s.refreshAsked {
		s.refreshAsked = true
		s.pushLocked(protocol.EncodePush(&protocol.Push{Op: protocol.OpRefreshPush}))
	}
	s.expiryTimer = time.AfterFunc(s.untilNextExpiryStep(now), s.onExpiryTimer)
}

// expiresUnix is the expiry as the protocol states it (0: never).
func expiresUnix(at time.Time) int64 {
	if at.IsZero() {
		return 0
	}
	return at.Unix()
}

func (s *Session) handleRefresh(ctx context.Context, cmd *protocol.Command) result {
	h := s.node.handlers.Load().refresh
	if h == nil {
		return fail(protocol.NewError(protocol.CodeNotAvailable, "refresh is not available on this server"))
	}
	if cmd.Token == "" {
		return fail(protocol.NewError(protocol.CodeBadRequest, "refresh needs a token"))
	}
	rep, err := h(ctx, s, RefreshEvent{Token: cmd.Token})
	if err != nil {
		pe, known := toProtocolError(err)
		if known && pe.Code == protocol.CodeUnauthorized {
			// A token that is not valid, or for someone else: the
			// connection's identity is in doubt.
			s.reply(cmd.ID, fail(pe))
			s.closeWith(protocol.CloseInvalidToken, pe.Message)
			return replied
		}
		return fail(err)
	}
	if !rep.ExpiresAt.IsZero() && !rep.ExpiresAt.After(time.Now()) {
		return fail(ErrTokenExpired)
	}
	s.setExpiry(rep.ExpiresAt)
	return ok(&protocol.RefreshResult{Expires: expiresUnix(rep.ExpiresAt)})
}
