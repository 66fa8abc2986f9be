package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/heraldrt/herald/protocol"
)

// Client is a connection to a Herald server that keeps itself connected:
// it reconnects with backoff when the connection drops and renews its
// subscriptions. Create it with New and start it with Connect. All methods
// are safe for concurrent use.
type Client struct {
	url        string
	opts       Options
	log        *slog.Logger
	backoff    backoff
	httpClient *http.Client
	transport  *http.Transport // ours, when Options.HTTPClient is nil
	postClient *http.Client    // sends the fallback transports' POSTs
	events     dispatcher
	nextID     atomic.Uint64

	// Lock order: mu, then a conn's mu, then the dispatcher's mu.
	mu        sync.Mutex
	state     State
	stateCh   chan struct{} // closed and replaced at every state change
	cur       *conn         // the current connection, when Connected
	subs      map[string]*Subscription
	runCancel context.CancelFunc
	runDone   chan struct{}
	stopErr   *DisconnectError // why the client last stopped
	lastErr   error            // the last failed connection attempt
}

// New returns a Client for the server's WebSocket endpoint, such as
// ws://127.0.0.1:8080/ws (http:// and https:// URLs work too). It does not
// connect: call Connect. A Client whose Connect was called must be closed
// with Close to release its goroutines.
func New(url string, opts Options) *Client {
	opts.setDefaults()
	c := &Client{
		url:     url,
		opts:    opts,
		log:     opts.Logger.With("component", "herald-client"),
		backoff: backoff{min: opts.MinReconnectDelay, max: opts.MaxReconnectDelay},
		stateCh: make(chan struct{}),
		subs:    make(map[string]*Subscription),
	}
	c.httpClient = opts.HTTPClient
	if c.httpClient == nil {
		// Every handshake needs a connection of its own, so keeping idle
		// ones (after a refused handshake) would only leak them.
		c.transport = http.DefaultTransport.(*http.Transport).Clone()
		c.transport.DisableKeepAlives = true
		c.httpClient = &http.Client{Transport: c.transport}
		// POSTs follow one another: they can share a connection.
		keep := http.DefaultTransport.(*http.Transport).Clone()
		keep.MaxIdleConnsPerHost = 1
		c.postClient = &http.Client{Transport: keep}
	} else {
		c.postClient = c.httpClient
	}
	return c
}

// State returns the client's current state.
func (c *Client) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

func (c *Client) setStateLocked(s State) {
	if c.state == s {
		return
	}
	c.log.Debug("state changed", "from", c.state, "to", s)
	c.state = s
	close(c.stateCh)
	c.stateCh = make(chan struct{})
}

// Connect starts the client and waits until it is connected. It returns nil
// once connected (at once when it already is); a *DisconnectError when the
// server refused the connection for good (a bad token: errors.As finds the
// server's *Error in it); ErrClosed after Close.
//
// When ctx ends first, Connect returns an error that wraps ctx.Err(), and
// the client keeps trying in the background; call Close to stop it. After a
// stop for a close code that forbids reconnecting, Connect starts again.
func (c *Client) Connect(ctx context.Context) error {
	if err := checkURL(c.url); err != nil {
		return err
	}
	if len(c.opts.Data) > 0 && !json.Valid(c.opts.Data) {
		return fmt.Errorf("%w: Options.Data is not valid JSON", ErrInvalidData)
	}
	if err := checkEncoding(c.opts.Encoding, c.opts.Transport); err != nil {
		return err
	}
	c.mu.Lock()
	if c.state == StateDisconnected {
		c.startLocked()
	}
	for {
		switch c.state {
		case StateConnected:
			c.mu.Unlock()
			return nil
		case StateClosed:
			c.mu.Unlock()
			return ErrClosed
		case StateDisconnected:
			stopErr := c.stopErr
			c.mu.Unlock()
			if stopErr == nil {
				return ErrDisconnected
			}
			return stopErr
		}
		ch, last := c.stateCh, c.lastErr
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			if last == nil {
				return fmt.Errorf("herald client: not connected yet (%w); still trying in the background, call Close to stop", ctx.Err())
			}
			return fmt.Errorf("herald client: not connected yet (%w); still trying in the background, call Close to stop; last attempt: %w", ctx.Err(), last)
		}
		c.mu.Lock()
	}
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidURL, err)
	}
	switch u.Scheme {
	case "ws", "wss", "http", "https":
	default:
		return fmt.Errorf("%w (got scheme %q)", ErrInvalidURL, u.Scheme)
	}
	if u.Host == "" {
		return fmt.Errorf("%w (no host in %q)", ErrInvalidURL, raw)
	}
	return nil
}

// startLocked starts the connection loop. c.mu must be held.
func (c *Client) startLocked() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	c.runCancel, c.runDone, c.stopErr, c.lastErr = cancel, done, nil, nil
	c.setStateLocked(StateConnecting)
	emitLocked(c, c.opts.OnConnecting, ConnectingEvent{Reason: "connect called"})
	go c.run(ctx, done)
}

// Close stops the client for good: it closes the connection (code 1000),
// ends every subscription (without calling OnUnsubscribed), fails waiting
// commands, calls OnDisconnected, and returns once the handlers queued so far
// have run (when called from a handler, it does not wait for handlers). It
// always returns nil; calling it again does nothing.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.state == StateClosed {
		c.mu.Unlock()
		return nil
	}
	prev := c.state
	cancel, done := c.runCancel, c.runDone
	c.setStateLocked(StateClosed)
	c.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	c.mu.Lock()
	for _, sub := range c.subs {
		c.removeLocked(sub)
		sub.settle(fmt.Errorf("herald client: subscribe to %q: %w", sub.channel, ErrClosed))
	}
	c.cur = nil
	if prev != StateDisconnected {
		emitLocked(c, c.opts.OnDisconnected, DisconnectedEvent{Code: 1000, Reason: "client closed"})
	}
	c.mu.Unlock()
	if c.transport != nil {
		c.transport.CloseIdleConnections()
		c.postClient.CloseIdleConnections()
	}
	c.events.wait()
	return nil
}

// emitLocked queues a call of handler with ev, when handler is set. Called
// under c.mu, so that events from different goroutines keep their order.
func emitLocked[E any](c *Client, handler func(E), ev E) {
	if handler != nil {
		c.events.push(func() { handler(ev) })
	}
}

// report logs err and passes it to Options.OnError.
func (c *Client) report(err error) {
	c.log.Warn("herald client problem", "error", err)
	if fn := c.opts.OnError; fn != nil {
		c.events.push(func() { fn(err) })
	}
}

// waitConn returns the current connection, waiting while the client is
// connecting.
func (c *Client) waitConn(ctx context.Context) (*conn, error) {
	for {
		c.mu.Lock()
		switch c.state {
		case StateClosed:
			c.mu.Unlock()
			return nil, ErrClosed
		case StateDisconnected:
			stopErr := c.stopErr
			c.mu.Unlock()
			if stopErr != nil {
				return nil, fmt.Errorf("%w (stopped: %w)", ErrDisconnected, stopErr)
			}
			return nil, ErrDisconnected
		case StateConnected:
			if cn := c.cur; cn != nil && !cn.isDead() {
				c.mu.Unlock()
				return cn, nil
			}
		}
		ch := c.stateCh
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("not connected before the context ended: %w", ctx.Err())
		}
	}
}

type callResult struct {
	rf  *protocol.ReplyFrame
	err error
}

// call sends cmd on the current connection (waiting for one while
// connecting), waits for its reply, bounded by ctx, and decodes the reply's
// result into result. A server refusal comes back as a *replyError; what
// names the command in errors.
func (c *Client) call(ctx context.Context, what string, cmd *protocol.Command, result any) error {
	for {
		cn, err := c.waitConn(ctx)
		if err != nil {
			return fmt.Errorf("herald client: %s: %w", what, err)
		}
		ch := make(chan callResult, 1)
		id, err := cn.call(cmd, func(rf *protocol.ReplyFrame, err error) { ch <- callResult{rf, err} })
		if errors.Is(err, errConnClosed) {
			continue // not sent: wait for the next connection
		}
		if err != nil {
			return fmt.Errorf("herald client: %s: %w", what, err)
		}
		select {
		case r := <-ch:
			if r.err != nil {
				return fmt.Errorf("herald client: %s: %w", what, r.err)
			}
			if r.rf.Error != nil {
				return &replyError{op: what, err: r.rf.Error}
			}
			return decodeResult(r.rf, result)
		case <-ctx.Done():
			cn.forget(id)
			return fmt.Errorf("herald client: %s: no reply before the context ended: %w", what, ctx.Err())
		}
	}
}

// Subscribe subscribes to channel and waits until the server confirms,
// bounded by ctx (while the client is connecting, it waits for the
// connection). The subscription then lasts until Unsubscribe, Close or the
// server ends it, across reconnects. A refusal returns the server's error
// (errors.Is(err, ErrPermissionDenied)); subscribing twice to one channel
// returns an error matching ErrAlreadySubscribed. Options give the channel
// token of channels that need one (WithChannelToken, WithChannelTokenFunc).
func (c *Client) Subscribe(ctx context.Context, channel string, h SubscriptionHandlers, opts ...SubscribeOption) (*Subscription, error) {
	if channel == "" {
		return nil, ErrInvalidChannel
	}
	what := "subscribe to " + strconv.Quote(channel)
	c.mu.Lock()
	switch c.state {
	case StateClosed:
		c.mu.Unlock()
		return nil, fmt.Errorf("herald client: %s: %w", what, ErrClosed)
	case StateDisconnected:
		c.mu.Unlock()
		return nil, fmt.Errorf("herald client: %s: %w", what, ErrDisconnected)
	}
	if _, dup := c.subs[channel]; dup {
		c.mu.Unlock()
		return nil, &replyError{op: what, err: protocol.NewError(protocol.CodeAlreadySubscribed,
			"already subscribed on this client; use the existing Subscription or Unsubscribe first")}
	}
	sub := &Subscription{c: c, channel: channel, h: h, ready: make(chan struct{})}
	for _, fn := range opts {
		fn(&sub.opts)
	}
	sub.token = sub.opts.token
	c.subs[channel] = sub
	if cn := c.cur; c.state == StateConnected && cn != nil {
		c.sendSubscribeLocked(cn, sub)
	}
	c.mu.Unlock()

	select {
	case <-sub.ready:
		if sub.err != nil {
			return nil, sub.err
		}
		return sub, nil
	case <-ctx.Done():
		if cn, onServer := c.detach(sub, true); onServer {
			_, _ = cn.call(&protocol.Command{Op: protocol.OpUnsubscribe, Channel: channel}, func(*protocol.ReplyFrame, error) {})
		}
		return nil, fmt.Errorf("herald client: %s: not subscribed before the context ended: %w", what, ctx.Err())
	}
}

// Unsubscribe ends the client's subscription to channel, calls its
// OnUnsubscribed, and waits for the server to confirm, bounded by ctx. It
// returns nil when the client is not subscribed to channel.
func (c *Client) Unsubscribe(ctx context.Context, channel string) error {
	c.mu.Lock()
	sub := c.subs[channel]
	c.mu.Unlock()
	if sub == nil {
		return nil
	}
	return c.unsubscribe(ctx, sub)
}

// Subscriptions returns the client's subscriptions, by channel.
func (c *Client) Subscriptions() map[string]*Subscription {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]*Subscription, len(c.subs))
	for ch, sub := range c.subs {
		out[ch] = sub
	}
	return out
}

// handlePush routes a push other than ping and disconnect.
func (c *Client) handlePush(cn *conn, rf *protocol.ReplyFrame) {
	switch rf.Op {
	case protocol.OpPub:
		c.handlePub(cn, rf)
	case protocol.OpJoin, protocol.OpLeave, protocol.OpUnsub:
		c.handleSubPush(cn, rf)
	case protocol.OpMessage:
		if fn := c.opts.OnMessage; fn != nil {
			data := rf.Data
			c.events.push(func() { fn(data) })
		}
	case protocol.OpRefreshPush:
		// The connection's credentials expire soon; its refresher (when
		// Options.TokenFunc is set) sends a new token.
		select {
		case cn.refreshAsk <- struct{}{}:
		default:
		}
	case protocol.OpSub:
		// A server-side subscription made after connect; its publications
		// go to Options.OnPublication.
		c.log.Debug("server subscribed this connection", "channel", rf.Channel)
	default:
		c.log.Debug("ignored an unknown push", "op", rf.Op)
	}
}
