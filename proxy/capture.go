package proxy

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/heraldrt/herald"
)

// Headers and cookies after connect.
//
// Herald drops a connection's handshake headers once it is connected, so
// that an idle connection holds none. When an endpoint other than connect
// forwards headers or cookies, the proxy keeps, per connection, only the
// ones some endpoint lists (Capture, at connect), forwards them with each
// later call, and forgets them when the connection ends (OnActivity).

// captures holds the kept headers of each connection, by client id.
// Capture keeps them as pending until the connection completes connect
// (ActivityConnected): a connect the node refuses after its handler
// accepted it (a connection limit, say) never ends with
// ActivityDisconnected, so its pending headers are swept after
// pendingTTL instead of being kept forever.
type captures struct {
	headers, cookies []string // what any endpoint after connect lists
	byClient         sync.Map // client id -> http.Header, connected

	mu        sync.Mutex
	pending   map[string]pendingHeader
	lastSweep time.Time
}

type pendingHeader struct {
	h  http.Header
	at time.Time
}

// pendingTTL bounds how long headers wait for their connect to complete.
const pendingTTL = time.Minute

// newCaptures returns the captures cfg needs, or nil when no endpoint
// after connect forwards anything.
func newCaptures(cfg *Config) *captures {
	c := &captures{}
	add := func(ep *Endpoint) {
		if ep == nil {
			return
		}
		for _, h := range ep.Headers {
			if !slices.ContainsFunc(c.headers, func(x string) bool { return strings.EqualFold(x, h) }) {
				c.headers = append(c.headers, h)
			}
		}
		for _, k := range ep.Cookies {
			if !slices.Contains(c.cookies, k) {
				c.cookies = append(c.cookies, k)
			}
		}
	}
	for _, ep := range []*Endpoint{cfg.Refresh, cfg.Subscribe, cfg.Publish, cfg.Send} {
		add(ep)
	}
	for i := range cfg.RPC {
		add(&cfg.RPC[i].Endpoint)
	}
	if len(c.headers) == 0 && len(c.cookies) == 0 {
		return nil
	}
	c.pending = map[string]pendingHeader{}
	return c
}

// keep holds h for client until its connect completes, sweeping what
// waited too long.
func (c *captures) keep(client string, h http.Header) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pending[client] = pendingHeader{h, now}
	if now.Sub(c.lastSweep) < pendingTTL {
		return
	}
	c.lastSweep = now
	for id, p := range c.pending {
		if now.Sub(p.at) > pendingTTL {
			delete(c.pending, id)
		}
	}
}

// Capture wraps the node's connect handler (the proxy's, the JWT rules',
// or nil for anonymous connections) so that the handshake headers and
// cookies that later endpoints forward are kept for the connection's
// life. Install uses it for the proxy's own connect handler; wrap any
// other connect handler with it when a later endpoint forwards headers or
// cookies. Without such endpoints it returns next unchanged (or, for nil,
// a handler that accepts every connection as anonymous).
func (p *Proxy) Capture(next herald.ConnectHandler) herald.ConnectHandler {
	if next == nil {
		next = func(context.Context, *herald.ConnectEvent) (herald.ConnectReply, error) {
			return herald.ConnectReply{}, nil
		}
	}
	c := p.captures
	if c == nil {
		return next
	}
	return func(ctx context.Context, e *herald.ConnectEvent) (herald.ConnectReply, error) {
		rep, err := next(ctx, e)
		if err == nil {
			kept := http.Header{}
			forward(kept, e.Header, &Endpoint{Headers: c.headers, Cookies: c.cookies})
			if len(kept) > 0 {
				c.keep(e.ClientID, kept)
			}
		}
		return rep, err
	}
}

// header returns what was kept for s, or nil.
func (c *captures) header(s *herald.Session) http.Header {
	if c == nil {
		return nil
	}
	if h, ok := c.byClient.Load(s.ID()); ok {
		return h.(http.Header)
	}
	return nil
}

// follow is the node's activity handler: it makes a connected
// connection's headers current, and forgets them when it ends.
func (c *captures) follow(a herald.Activity) {
	switch a.Kind {
	case herald.ActivityConnected:
		c.mu.Lock()
		p, ok := c.pending[a.Session.ID()]
		delete(c.pending, a.Session.ID())
		c.mu.Unlock()
		if ok {
			c.byClient.Store(a.Session.ID(), p.h)
		}
	case herald.ActivityDisconnected:
		c.byClient.Delete(a.Session.ID())
	}
}
