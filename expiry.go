package herald

import (
	"context"
	"time"

	"github.com/heraldrt/herald/protocol"
)

// Connections whose credentials expire (ConnectReply.ExpiresAt) carry a
// timer, armed only for them: it first sends the `refresh` push,
// Config.RefreshAhead before the expiry, then closes the connection with
// 3005 at the expiry unless a refresh moved it. The state lives in the
// session's rareState, so that connections without an expiry pay nothing
// for it.

// expiry is a session's credential expiry, under Session.mu.
type expiry struct {
	expiresAt    time.Time // zero: never
	expiryTimer  *time.Timer
	expiryGen    uint32 // which arming the timer belongs to (see armExpiryLocked)
	refreshAsked bool
}

// setExpiry arms (or disarms, for a zero time) the expiry timer.
func (s *Session) setExpiry(at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopExpiryLocked()
	if s.rare == nil && at.IsZero() {
		return
	}
	e := &s.rareLocked().expiry
	e.expiresAt, e.refreshAsked = at, false
	if at.IsZero() || s.closing {
		return
	}
	s.armExpiryLocked(e.untilNextStep(s.node.cfg.RefreshAhead, time.Now()))
}

// armExpiryLocked sets the expiry timer to fire after d. Each arming has a
// generation, and a callback of an older one does nothing: a timer that
// fired while a refresh was re-arming (Stop cannot recall a callback that
// already started) would otherwise ask for a refresh at once and leave a
// second timer running. mu is held.
func (s *Session) armExpiryLocked(d time.Duration) {
	e := &s.rare.expiry
	e.expiryGen++
	gen := e.expiryGen
	e.expiryTimer = time.AfterFunc(d, func() { s.onExpiryTimer(gen) })
}

// stopExpiryLocked stops the expiry timer, if any. mu is held.
func (s *Session) stopExpiryLocked() {
	if s.rare != nil && s.rare.expiryTimer != nil {
		s.rare.expiryTimer.Stop()
		s.rare.expiryTimer = nil
	}
}

// untilNextStep is the wait before asking for a refresh, or before closing
// once asked. Session.mu is held.
func (e *expiry) untilNextStep(refreshAhead time.Duration, now time.Time) time.Duration {
	left := e.expiresAt.Sub(now)
	if e.refreshAsked {
		return max(left, 0)
	}
	ahead := min(refreshAhead, left/2)
	return max(left-ahead, 0)
}

func (s *Session) onExpiryTimer(gen uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing || s.closed || s.rare == nil || s.rare.expiresAt.IsZero() || gen != s.rare.expiryGen {
		return
	}
	e := &s.rare.expiry
	now := time.Now()
	if !now.Before(e.expiresAt) {
		s.closeLocked(protocol.CloseTokenExpired, "")
		return
	}
	if !e.refreshAsked {
		e.refreshAsked = true
		s.pushLocked(s.enc.EncodePush(&protocol.Push{Op: protocol.OpRefreshPush}))
	}
	s.armExpiryLocked(e.untilNextStep(s.node.cfg.RefreshAhead, now))
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
