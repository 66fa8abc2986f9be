package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/proxy"
)

// ProxyConfig is the config file's proxy section: which events the
// application's backend decides over HTTP (package proxy), and how. With
// --proxy-url, every event listed in Events goes to that URL plus
// "/connect", "/refresh", "/subscribe", "/publish", "/rpc" or "/send";
// an event's own section overrides it. An endpoint's fields left out take
// the section's timeout, headers, cookies and static_headers.
type ProxyConfig struct {
	// Events are the events --proxy-url serves; empty means all of them.
	Events        []string          `yaml:"events"`
	Timeout       time.Duration     `yaml:"timeout"`
	Headers       []string          `yaml:"headers"`
	Cookies       []string          `yaml:"cookies"`
	StaticHeaders map[string]string `yaml:"static_headers"`
	// MaxConcurrent bounds the calls in flight on the node (default 256);
	// MaxResponseSize an answer, in bytes (default 1 MiB).
	MaxConcurrent   int   `yaml:"max_concurrent"`
	MaxResponseSize int64 `yaml:"max_response_size"`

	Connect   *ProxyEndpoint `yaml:"connect"`
	Refresh   *ProxyEndpoint `yaml:"refresh"`
	Subscribe *ProxyEndpoint `yaml:"subscribe"`
	Publish   *ProxyEndpoint `yaml:"publish"`
	Send      *ProxyEndpoint `yaml:"send"`
	// RPC routes methods (a name or a pattern like user.*), first match
	// first; with --proxy-url serving rpc, every other method goes there.
	RPC []ProxyRoute `yaml:"rpc"`
}

// ProxyEndpoint is one event's endpoint in the config file (see
// proxy.Endpoint).
type ProxyEndpoint struct {
	URL           string            `yaml:"url"`
	Timeout       time.Duration     `yaml:"timeout"`
	Headers       []string          `yaml:"headers"`
	Cookies       []string          `yaml:"cookies"`
	StaticHeaders map[string]string `yaml:"static_headers"`
	Retries       int               `yaml:"retries"`
}

// ProxyRoute is one RPC route of the config file.
type ProxyRoute struct {
	Method        string `yaml:"method"`
	ProxyEndpoint `yaml:",inline"`
}

// proxyConfig resolves --proxy-url and the proxy section into the proxy's
// Config; ok is false when no event goes to a backend.
func (c *Config) proxyConfig() (cfg proxy.Config, ok bool, err error) {
	pc := c.Proxy
	if pc == nil {
		pc = &ProxyConfig{}
	}
	for _, e := range pc.Events {
		if !slices.Contains(proxy.Events, e) {
			return cfg, false, fmt.Errorf("proxy: events: unknown event %q (known: %s)", e, strings.Join(proxy.Events, ", "))
		}
	}
	base := strings.TrimSuffix(c.ProxyURL, "/")
	serves := func(event string) bool {
		return base != "" && (len(pc.Events) == 0 || slices.Contains(pc.Events, event))
	}
	endpoint := func(event string, own *ProxyEndpoint) *proxy.Endpoint {
		if own == nil && !serves(event) {
			return nil
		}
		ep := proxy.Endpoint{Timeout: pc.Timeout, Headers: pc.Headers, Cookies: pc.Cookies, StaticHeaders: pc.StaticHeaders}
		if base != "" {
			ep.URL = base + "/" + event
		}
		if own != nil {
			own.applyTo(&ep)
		}
		ok = true
		return &ep
	}
	cfg = proxy.Config{
		Connect:         endpoint(proxy.EventConnect, pc.Connect),
		Refresh:         endpoint(proxy.EventRefresh, pc.Refresh),
		Subscribe:       endpoint(proxy.EventSubscribe, pc.Subscribe),
		Publish:         endpoint(proxy.EventPublish, pc.Publish),
		Send:            endpoint(proxy.EventSend, pc.Send),
		MaxConcurrent:   pc.MaxConcurrent,
		MaxResponseSize: pc.MaxResponseSize,
	}
	for _, r := range pc.RPC {
		ep := endpoint(proxy.EventRPC, &r.ProxyEndpoint)
		cfg.RPC = append(cfg.RPC, proxy.RPCRoute{Method: r.Method, Endpoint: *ep})
	}
	if serves(proxy.EventRPC) {
		ok = true
		cfg.RPC = append(cfg.RPC, proxy.RPCRoute{Method: "*", Endpoint: *endpoint(proxy.EventRPC, nil)})
	}
	if !ok && c.Proxy != nil {
		return cfg, false, errors.New("proxy: no event goes to a backend: set --proxy-url, or a url for an event (connect: {url: ...})")
	}
	return cfg, ok, cfg.Validate()
}

// validProxyURL accepts an empty value or an http(s) URL with a host.
func validProxyURL(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("want the http or https URL of your backend, like http://127.0.0.1:3000/herald")
	}
	return nil
}

// applyTo sets on ep the fields e sets.
func (e *ProxyEndpoint) applyTo(ep *proxy.Endpoint) {
	if e.URL != "" {
		ep.URL = e.URL
	}
	if e.Timeout != 0 {
		ep.Timeout = e.Timeout
	}
	if e.Headers != nil {
		ep.Headers = e.Headers
	}
	if e.Cookies != nil {
		ep.Cookies = e.Cookies
	}
	if e.StaticHeaders != nil {
		ep.StaticHeaders = e.StaticHeaders
	}
	ep.Retries = e.Retries
}

// proxyConnects reports whether a connect proxy authenticates clients.
func (c *Config) proxyConnects() bool {
	cfg, ok, err := c.proxyConfig()
	return ok && err == nil && cfg.Connect != nil
}

// installProxy installs the proxy's handlers on node after the JWT rules
// (installAuth), with this precedence: a connect that carries a token goes
// to the JWT rules when a token key is set, every other connect to the
// connect proxy; every other event the proxy is configured for is the
// proxy's (refresh, subscribe, publish, send, rpc), the rest keep the
// node's rules.
func installProxy(node *herald.Node, c *Config, v *auth.Verifier, reg prometheus.Registerer, log *slog.Logger) error {
	cfg, ok, err := c.proxyConfig()
	if err != nil || !ok {
		return err
	}
	cfg.Registry, cfg.Logger = reg, log
	p, err := proxy.New(cfg)
	if err != nil {
		return err
	}
	p.Install(node)
	// Capture keeps the handshake's headers and cookies that endpoints
	// after connect forward, whoever decides connect.
	switch {
	case cfg.Connect != nil && v != nil:
		node.OnConnect(p.Capture(proxy.PreferToken(logRefusals(auth.ConnectHandler(v), log), p.ConnectHandler())))
	case cfg.Connect == nil && v != nil:
		node.OnConnect(p.Capture(logRefusals(auth.ConnectHandler(v), log)))
	case cfg.Connect == nil:
		node.OnConnect(p.Capture(nil)) // open mode: anonymous, as without a handler
	}
	var events []string
	for _, e := range []struct {
		name string
		on   bool
	}{{"connect", cfg.Connect != nil}, {"refresh", cfg.Refresh != nil}, {"subscribe", cfg.Subscribe != nil},
		{"publish", cfg.Publish != nil}, {"rpc", len(cfg.RPC) > 0}, {"send", cfg.Send != nil}} {
		if e.on {
			events = append(events, e.name)
		}
	}
	log.Info("proxy on: the application's backend decides these events", "events", strings.Join(events, ","))
	return nil
}
