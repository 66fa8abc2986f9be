package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/heraldrt/herald/protocol"
)

// SubscribeOption changes one Subscribe.
type SubscribeOption func(*subscribeOptions)

type subscribeOptions struct {
	token     string
	tokenFunc func(ctx context.Context, channel string) (string, error)
}

// WithChannelToken sends a channel token (a JWT with a channel claim, from
// `herald token --channel-token`) with the subscribe, for channels that
// need one: private channels and namespaces whose subscribe access is
// token. The token also lets the subscription's connection publish and
// read presence and history where those need one.
func WithChannelToken(token string) SubscribeOption {
	return func(o *subscribeOptions) { o.token = token }
}

// WithChannelTokenFunc gets the subscription's channel tokens from fn: when
// it has none, shortly before the one it has expires (5 s before, at most a
// quarter of its lifetime), so that renewing the subscription after a
// reconnect never sends an expired token, and once more when the server
// refuses a renewal with 101, 103 or 109. fn must return when ctx ends
// (each call is bounded by Options.DialTimeout). An error from fn fails the
// first Subscribe; on a renewal it is reported to OnError and retried with
// backoff, unless it wraps ErrUnauthorized, which ends the subscription.
//
// Protocol v1 has no command to hand a live subscription a new channel
// token, and a v1 server checks the token only at subscribe: a
// subscription outlives its token, and the fresh one is used at the next
// subscribe.
func WithChannelTokenFunc(fn func(ctx context.Context, channel string) (string, error)) SubscribeOption {
	return func(o *subscribeOptions) { o.tokenFunc = fn }
}

// tokenExpiry returns the exp claim of a JWT (zero when it has none or is
// not a JWT). The token is not verified: the server does that.
func tokenExpiry(token string) time.Time {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}
	}
	var claims struct {
		Exp float64 `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Exp <= 0 {
		return time.Time{}
	}
	return time.Unix(int64(claims.Exp), 0)
}

// needsTokenLocked reports whether sub must get a channel token from its
// token func before it subscribes: it has none, or the one it has expires
// within a second. c.mu must be held.
func (sub *Subscription) needsTokenLocked() bool {
	if sub.opts.tokenFunc == nil || sub.tokenFresh {
		return false
	}
	if sub.token == "" {
		return true
	}
	exp := tokenExpiry(sub.token)
	return !exp.IsZero() && time.Until(exp) < time.Second
}

// fetchTokenLocked gets a channel token for sub from its token func, then
// sends its subscribe on cn, if cn is still the current connection. c.mu
// must be held.
func (c *Client) fetchTokenLocked(cn *conn, sub *Subscription) {
	sub.state, sub.conn = subSubscribing, cn
	sub.fetchSeq++
	seq, fn := sub.fetchSeq, sub.opts.tokenFunc
	go func() {
		ctx, cancel := context.WithTimeout(cn.ctx, c.opts.DialTimeout)
		tok, err := fn(ctx, sub.channel)
		cancel()
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.subs[sub.channel] != sub || sub.fetchSeq != seq || sub.conn != cn || sub.state != subSubscribing {
			return // unsubscribed, or the connection ended (the next one asks again)
		}
		if err != nil {
			c.tokenFuncFailedLocked(cn, sub, err)
			return
		}
		c.setTokenLocked(sub, tok)
		sub.tokenFresh = true
		if c.cur != cn || cn.isDead() {
			sub.state, sub.conn = subPending, nil
			return
		}
		c.sendSubscribeLocked(cn, sub)
	}()
}

// tokenFuncFailedLocked handles an error of a subscription's token func.
func (c *Client) tokenFuncFailedLocked(cn *conn, sub *Subscription, err error) {
	err = fmt.Errorf("herald client: subscribe to %q: channel token: %w", sub.channel, err)
	if !sub.everSubscribed || errors.Is(err, ErrUnauthorized) {
		c.removeLocked(sub)
		if !sub.everSubscribed {
			sub.settle(err)
			return
		}
		c.report(err)
		if fn := sub.h.OnUnsubscribed; fn != nil {
			ev := UnsubscribedEvent{Channel: sub.channel, Reason: err.Error(), Err: err}
			c.events.push(func() { fn(ev) })
		}
		return
	}
	c.retrySubscribeLocked(cn, sub, err)
}

// setTokenLocked keeps sub's new channel token and schedules getting the
// next one before it expires.
func (c *Client) setTokenLocked(sub *Subscription, token string) {
	sub.token = token
	if sub.tokenTimer != nil {
		sub.tokenTimer.Stop()
		sub.tokenTimer = nil
	}
	exp := tokenExpiry(token)
	if sub.opts.tokenFunc == nil || exp.IsZero() {
		return
	}
	left := time.Until(exp)
	sub.tokenTimer = time.AfterFunc(max(left-min(refreshFallback, left/4), 0), func() { c.renewToken(sub, 0) })
}

// renewToken gets sub a fresh channel token ahead of the expiry of the one
// it holds, retrying with backoff until then.
func (c *Client) renewToken(sub *Subscription, attempt int) {
	c.mu.Lock()
	if c.subs[sub.channel] != sub || c.state == StateClosed {
		c.mu.Unlock()
		return
	}
	fn := sub.opts.tokenFunc
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.DialTimeout)
	tok, err := fn(ctx, sub.channel)
	cancel()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.subs[sub.channel] != sub || c.state == StateClosed {
		return
	}
	if err == nil {
		c.setTokenLocked(sub, tok)
		return
	}
	c.report(fmt.Errorf("herald client: channel token for %q: %w", sub.channel, err))
	left := time.Until(tokenExpiry(sub.token))
	if left <= 0 {
		return // the next subscribe asks the token func itself
	}
	sub.tokenTimer = time.AfterFunc(min(c.backoff.delay(attempt), left), func() { c.renewToken(sub, attempt+1) })
}

// tokenRefusal reports whether a subscribe refused with code may succeed
// with another channel token.
func tokenRefusal(code int) bool {
	return code == protocol.CodeUnauthorized || code == protocol.CodePermissionDenied || code == protocol.CodeTokenExpired
}
