package client

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/heraldrt/herald/protocol"
)

// run is the connection loop: connect, renew the subscriptions, wait for the
// connection to end, sleep a backoff, and again, until a close code forbids
// reconnecting or ctx (Close) ends it. One run goroutine exists per Connect
// that started the client.
func (c *Client) run(ctx context.Context, done chan struct{}) {
	defer close(done)
	attempt := 0
	for {
		cn, res, err := c.dial(ctx)
		switch {
		case ctx.Err() != nil:
			if cn != nil {
				cn.close(1000, "client closed")
			}
			return
		case err != nil:
			var de *DisconnectError
			if errors.As(err, &de) && !protocol.ShouldReconnect(de.Code) {
				c.stop(de)
				return
			}
			if de != nil && c.opts.TokenFunc == nil && errors.Is(de.Err, ErrTokenExpired) {
				// The same token would be refused again.
				c.stop(&DisconnectError{Code: de.Code, Reason: de.Reason + "; set Options.TokenFunc to reconnect with a new token", Err: de.Err})
				return
			}
			c.mu.Lock()
			c.lastErr = err
			c.mu.Unlock()
			c.report(err)
		default:
			attempt = 0
			if !c.connected(cn, res) {
				cn.close(1000, "client closed")
				return
			}
			refresher := c.startRefresher(cn, res.Expires)
			select {
			case <-cn.done:
				<-refresher
			case <-ctx.Done():
				cn.close(1000, "client closed")
				<-refresher
				return
			}
			code, reason, _ := cn.closeInfo()
			if !protocol.ShouldReconnect(code) {
				c.stop(&DisconnectError{Code: code, Reason: reason})
				return
			}
			if !c.reconnecting(code, reason) {
				return
			}
		}
		t := time.NewTimer(c.backoff.delay(attempt))
		attempt++
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
}

// dial makes one connection attempt: a token, the transport (each one it
// tries bounded by DialTimeout), and connect. A refused connect returns a
// *DisconnectError with the close code the server sent after its refusal.
func (c *Client) dial(runCtx context.Context) (*conn, *protocol.ConnectResult, error) {
	ctx, cancel := context.WithTimeout(runCtx, c.opts.DialTimeout)
	defer cancel()
	token := c.opts.Token
	if c.opts.TokenFunc != nil {
		t, err := c.opts.TokenFunc(ctx)
		if err != nil {
			if errors.Is(err, ErrUnauthorized) {
				return nil, nil, &DisconnectError{Code: protocol.CloseInvalidToken, Reason: "the token function refused", Err: err}
			}
			return nil, nil, fmt.Errorf("herald client: get a token: %w", err)
		}
		token = t
	}
	w, err := c.openWire(runCtx)
	if err != nil {
		return nil, nil, err
	}
	cancel()
	ctx, cancel = context.WithTimeout(runCtx, c.opts.DialTimeout)
	defer cancel()
	cn := newConn(c, w, c.opts.DialTimeout)

	// The reply is decoded on the reader, so that the silence bound from
	// the connect result applies from the very next read.
	type connectReply struct {
		callResult
		res protocol.ConnectResult
		bad error
	}
	ch := make(chan connectReply, 1)
	cmd := &protocol.Command{Op: protocol.OpConnect, Token: token, Name: c.opts.Name, Version: c.opts.Version, Data: c.opts.Data}
	_, err = cn.call(cmd, func(rf *protocol.ReplyFrame, err error) {
		r := connectReply{callResult: callResult{rf, err}}
		if err == nil && rf.Error == nil {
			if r.bad = decodeResult(rf, &r.res); r.bad == nil {
				cn.readTimeout.Store(int64(c.opts.silence(r.res.Ping)))
			}
		}
		ch <- r
	})
	if err != nil {
		cn.abort(1006, "connect not sent")
		<-cn.done
		return nil, nil, fmt.Errorf("herald client: connect: %w", err)
	}
	var r connectReply
	select {
	case r = <-ch:
	case <-ctx.Done():
		cn.abort(1006, "no reply to connect")
		<-cn.done
		return nil, nil, fmt.Errorf("herald client: no reply to connect from %s: %w", c.url, ctx.Err())
	}
	if r.err != nil {
		<-cn.done
		code, reason, _ := cn.closeInfo()
		return nil, nil, &DisconnectError{Code: code, Reason: reason, Err: fmt.Errorf("herald client: connect: %w", r.err)}
	}
	if r.rf.Error != nil {
		// The server closes the connection right after a refusal; its close
		// code says whether to try again.
		refusal := &replyError{op: "connect", err: r.rf.Error}
		select {
		case <-cn.done:
		case <-ctx.Done():
			cn.abort(protocol.RefusedConnectCloseCode(r.rf.Error.Code), r.rf.Error.Message)
			<-cn.done
		}
		code, reason, byServer := cn.closeInfo()
		if !byServer {
			code, reason = protocol.RefusedConnectCloseCode(r.rf.Error.Code), r.rf.Error.Message
		}
		return nil, nil, &DisconnectError{Code: code, Reason: reason, Err: refusal}
	}
	if r.bad != nil {
		cn.abort(1006, "malformed connect result")
		<-cn.done
		return nil, nil, r.bad
	}
	return cn, &r.res, nil
}

// connected makes cn the current connection and renews every subscription
// on it. It reports false when the client was closed meanwhile.
func (c *Client) connected(cn *conn, res *protocol.ConnectResult) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == StateClosed {
		return false
	}
	c.cur, c.lastErr = cn, nil
	c.setStateLocked(StateConnected)
	c.log.Debug("connected", "client", res.Client, "node", res.Node, "user", res.User, "transport", cn.w.kind(), "encoding", cn.enc)
	var expires time.Time
	if res.Expires > 0 {
		expires = time.Unix(res.Expires, 0)
	}
	emitLocked(c, c.opts.OnConnected, ConnectedEvent{
		Client: res.Client, User: res.User, Node: res.Node,
		Ping: time.Duration(res.Ping) * time.Second, Expires: expires, Data: res.Data,
		Transport: cn.w.kind(), Encoding: encodingName(cn.enc),
	})
	for _, sub := range c.subs {
		c.sendSubscribeLocked(cn, sub)
	}
	return true
}

// reconnecting records the loss of the current connection before the next
// attempt. It reports false when the client was closed meanwhile.
func (c *Client) reconnecting(code int, reason string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == StateClosed {
		return false
	}
	c.detachSubsLocked()
	c.setStateLocked(StateConnecting)
	c.log.Debug("connection lost; reconnecting", "code", code, "reason", reason)
	emitLocked(c, c.opts.OnConnecting, ConnectingEvent{Code: code, Reason: reason})
	return true
}

// stop moves the client to Disconnected for a reason that forbids
// reconnecting. Subscriptions that were active stay registered, to be
// renewed by the next Connect; those still waiting for their first
// confirmation fail.
func (c *Client) stop(de *DisconnectError) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == StateClosed {
		return
	}
	c.detachSubsLocked()
	for _, sub := range c.subs {
		if !sub.everSubscribed {
			c.removeLocked(sub)
			sub.settle(fmt.Errorf("herald client: subscribe to %q: %w (stopped: %w)", sub.channel, ErrDisconnected, de))
		}
	}
	c.stopErr = de
	c.setStateLocked(StateDisconnected)
	c.log.Info("disconnected; not reconnecting", "code", de.Code, "reason", de.Reason)
	emitLocked(c, c.opts.OnDisconnected, DisconnectedEvent{Code: de.Code, Reason: de.Reason, Err: de.Err})
}

// detachSubsLocked marks every subscription as waiting for a connection.
func (c *Client) detachSubsLocked() {
	c.cur = nil
	for _, sub := range c.subs {
		sub.stopRetry()
		sub.state, sub.conn = subPending, nil
	}
}

// pendingCount returns how many commands wait for a reply on the current
// connection (for tests).
func (c *Client) pendingCount() int {
	c.mu.Lock()
	cn := c.cur
	c.mu.Unlock()
	if cn == nil {
		return 0
	}
	return cn.pendingCount()
}
