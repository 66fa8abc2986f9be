package proxy

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of Config and Endpoint.
const (
	DefaultTimeout         = 5 * time.Second
	DefaultMaxConcurrent   = 256
	DefaultMaxResponseSize = 1 << 20
)

// Config says which events go to the backend, and how.
type Config struct {
	// The events the backend decides; nil leaves an event to the node's
	// own rules (or another handler).
	Connect, Refresh, Subscribe, Publish, Send *Endpoint
	// RPC routes methods to endpoints, first match wins: a route's Method
	// is an exact name or a path.Match pattern ("user.*", "*").
	RPC []RPCRoute
	// MaxConcurrent bounds the proxy calls in flight on this node; a call
	// over it fails at once with ErrBusy. 0 means DefaultMaxConcurrent.
	MaxConcurrent int
	// MaxResponseSize bounds a backend's answer, in bytes; a larger one is
	// a failed call. 0 means DefaultMaxResponseSize.
	MaxResponseSize int64
	// Client makes the calls; nil means a client of its own, which never
	// follows redirects. A given client's CheckRedirect is replaced too:
	// a redirect is a failed call.
	Client *http.Client
	// Registry receives the proxy's metrics; nil registers none.
	Registry prometheus.Registerer
	// Logger logs failed calls; nil means slog.Default().
	Logger *slog.Logger
}

// Endpoint is where one event goes.
type Endpoint struct {
	// URL receives the event as a JSON POST.
	URL string
	// Timeout bounds the whole call, retries included; 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// Headers and Cookies list, by name, the request headers and cookies
	// of the client's WebSocket handshake that are forwarded. Nothing else
	// is. After connect, they are what the handshake carried, kept for the
	// connection's life (see Capture). Cookie in Headers is ignored: list
	// cookies by name in Cookies.
	Headers []string
	Cookies []string
	// StaticHeaders are set on every call (a shared secret, say).
	StaticHeaders map[string]string
	// Retries is how many times a call that failed without an answer (the
	// backend unreachable, or a 502, 503 or 504) is tried again, within
	// Timeout. Only connect, refresh and subscribe, which change nothing
	// on the backend, may retry.
	Retries int
}

// RPCRoute sends the RPC methods matching Method to an endpoint.
type RPCRoute struct {
	Method string
	Endpoint
}

// Event names, as they appear in metrics and logs.
const (
	EventConnect   = "connect"
	EventRefresh   = "refresh"
	EventSubscribe = "subscribe"
	EventPublish   = "publish"
	EventRPC       = "rpc"
	EventSend      = "send"
)

// Events lists every event, in order.
var Events = []string{EventConnect, EventRefresh, EventSubscribe, EventPublish, EventRPC, EventSend}

// idempotent reports whether a call of event may be repeated.
func idempotent(event string) bool {
	return event == EventConnect || event == EventRefresh || event == EventSubscribe
}

// Validate checks the endpoints: http(s) URLs, no negative numbers,
// retries only where they are safe, valid RPC patterns.
func (c *Config) Validate() error {
	for _, e := range []struct {
		name string
		ep   *Endpoint
	}{{EventConnect, c.Connect}, {EventRefresh, c.Refresh}, {EventSubscribe, c.Subscribe}, {EventPublish, c.Publish}, {EventSend, c.Send}} {
		if e.ep == nil {
			continue
		}
		if err := e.ep.validate(e.name); err != nil {
			return fmt.Errorf("proxy %s: %w", e.name, err)
		}
	}
	for i, r := range c.RPC {
		if r.Method == "" {
			return fmt.Errorf("proxy rpc route %d: needs a method (a name or a pattern like user.* or *)", i+1)
		}
		if _, err := path.Match(r.Method, ""); err != nil {
			return fmt.Errorf("proxy rpc route %q: bad pattern: %w", r.Method, err)
		}
		if err := r.validate(EventRPC); err != nil {
			return fmt.Errorf("proxy rpc route %q: %w", r.Method, err)
		}
	}
	if c.MaxConcurrent < 0 || c.MaxResponseSize < 0 {
		return errors.New("proxy: max_concurrent and max_response_size must not be negative")
	}
	return nil
}

func (e *Endpoint) validate(event string) error {
	u, err := url.Parse(e.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url %q: want an http or https URL, like http://127.0.0.1:3000/herald/%s", e.URL, event)
	}
	if e.Timeout < 0 || e.Retries < 0 {
		return errors.New("timeout and retries must not be negative")
	}
	if e.Retries > 0 && !idempotent(event) {
		return fmt.Errorf("retries: a %s call may change the backend's state, so it is never repeated; only connect, refresh and subscribe retry", event)
	}
	return nil
}

// route returns the endpoint of an RPC method, or nil.
func (c *Config) route(method string) *Endpoint {
	for i := range c.RPC {
		if ok, _ := path.Match(c.RPC[i].Method, method); ok {
			return &c.RPC[i].Endpoint
		}
	}
	return nil
}
