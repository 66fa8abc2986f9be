package client

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/heraldrt/herald/protocol"
)

// refreshFallback is how long before a connection's expiry the client
// refreshes on its own when the server's `refresh` push has not come (at
// most a quarter of the lifetime left). The server asks earlier (30 s
// before by default), so this only matters when the push is missing.
const refreshFallback = 5 * time.Second

// startRefresher keeps cn's credentials fresh when they expire (expires > 0,
// Unix seconds) and Options.TokenFunc can get new ones: on the server's
// `refresh` push, or shortly before the expiry when no push came, it gets a
// token and sends it in a refresh command. It returns a channel closed once
// the refresher has stopped, which it does when cn ends. Without TokenFunc
// nothing is refreshed: the server closes the connection with 3005 at the
// expiry and the client reconnects.
func (c *Client) startRefresher(cn *conn, expires int64) <-chan struct{} {
	done := make(chan struct{})
	if expires <= 0 || c.opts.TokenFunc == nil {
		if expires > 0 {
			c.log.Debug("the connection expires and Options.TokenFunc is not set: it will be closed at the expiry (3005) and reconnected",
				"expires", time.Unix(expires, 0))
		}
		close(done)
		return done
	}
	go c.refreshLoop(cn, time.Unix(expires, 0), done)
	return done
}

func (c *Client) refreshLoop(cn *conn, expires time.Time, done chan struct{}) {
	defer close(done)
	for {
		left := time.Until(expires)
		t := time.NewTimer(max(left-min(refreshFallback, left/4), 0))
		select {
		case <-cn.ctx.Done():
			t.Stop()
			return
		case <-cn.refreshAsk:
		case <-t.C:
		}
		t.Stop()
		next, ok := c.refresh(cn, expires)
		if !ok {
			return
		}
		// A push sent while the refresh was under way is answered.
		select {
		case <-cn.refreshAsk:
		default:
		}
		if next.IsZero() {
			c.log.Debug("refreshed; the connection no longer expires")
			return
		}
		c.log.Debug("refreshed", "expires", next)
		expires = next
	}
}

// refresh gets a token and sends it in a refresh command on cn, retrying
// with backoff until expires. It returns the new expiry (zero: never), or
// false when it gave up: cn ended, the server cannot refresh (108: it closes
// the connection with 3005 at the expiry and the client reconnects with a
// new token), the token was refused (101: the server closes the connection
// with 3500 and the client stops), or TokenFunc returned an error wrapping
// ErrUnauthorized. Every failure is reported to Options.OnError.
func (c *Client) refresh(cn *conn, expires time.Time) (time.Time, bool) {
	for attempt := 0; ; attempt++ {
		next, err := c.refreshOnce(cn)
		if err == nil {
			return next, true
		}
		var refused *replyError
		if !errors.As(err, &refused) && cn.ctx.Err() != nil {
			return time.Time{}, false // the connection ended; its loss is reported
		}
		c.report(err)
		if errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrNotAvailable) || cn.ctx.Err() != nil {
			return time.Time{}, false
		}
		// 109 (the token was already expired), a token function's error,
		// a busy or failing server: try again while the connection lasts.
		left := time.Until(expires)
		if left <= 0 {
			return time.Time{}, false
		}
		t := time.NewTimer(min(c.backoff.delay(attempt), left))
		select {
		case <-cn.ctx.Done():
			t.Stop()
			return time.Time{}, false
		case <-t.C:
		}
		if !time.Now().Before(expires) {
			return time.Time{}, false
		}
	}
}

// refreshOnce makes one refresh: a token from Options.TokenFunc and the
// refresh command, both bounded by Options.DialTimeout.
func (c *Client) refreshOnce(cn *conn) (time.Time, error) {
	ctx, cancel := context.WithTimeout(cn.ctx, c.opts.DialTimeout)
	defer cancel()
	token, err := c.opts.TokenFunc(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("herald client: refresh: get a token: %w", err)
	}
	ch := make(chan callResult, 1)
	id, err := cn.call(&protocol.Command{Op: protocol.OpRefresh, Token: token}, func(rf *protocol.ReplyFrame, err error) {
		ch <- callResult{rf, err}
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("herald client: refresh: %w", err)
	}
	var r callResult
	select {
	case r = <-ch:
	case <-ctx.Done():
		cn.forget(id)
		return time.Time{}, fmt.Errorf("herald client: refresh: no reply: %w", ctx.Err())
	}
	if r.err != nil {
		return time.Time{}, fmt.Errorf("herald client: refresh: %w", r.err)
	}
	if r.rf.Error != nil {
		return time.Time{}, &replyError{op: "refresh", err: r.rf.Error}
	}
	var res protocol.RefreshResult
	if err := decodeResult(r.rf, &res); err != nil {
		return time.Time{}, err
	}
	if res.Expires <= 0 {
		return time.Time{}, nil
	}
	return time.Unix(res.Expires, 0), nil
}
