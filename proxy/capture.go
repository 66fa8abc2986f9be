package proxy

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"

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
type captures struct {
	headers, cookies []string // what any endpoint after connect lists
	byClient         sync.Map // client id -> http.Header
}

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
	return c
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
				c.byClient.Store(e.ClientID, kept)
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

// forget drops what was kept for a connection that ended (or that never
// completed connect: its Disconnected never comes, so a refused connect
// keeps nothing, see Capture).
func (c *captures) forget(a herald.Activity) {
	if a.Kind == herald.ActivityDisconnected {
		c.byClient.Delete(a.Session.ID())
	}
}
