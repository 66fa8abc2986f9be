package proxy

import (
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/heraldrt/herald"
)

// Proxy calls the application's backend on the events its Config lists.
// Create it with New, then Install it on a node (or take its handlers one
// by one). It is safe for concurrent use.
type Proxy struct {
	cfg         Config
	client      *http.Client
	sem         chan struct{} // one slot per call in flight
	maxResponse int64
	m           *metrics
	log         *slog.Logger
	captures    *captures // nil when no endpoint after connect forwards headers

	logMu    sync.Mutex
	loggedAt map[string]time.Time // event+outcome -> last failure logged
}

// New checks cfg and returns its Proxy, registering its metrics on
// cfg.Registry.
func New(cfg Config) (*Proxy, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Proxy{cfg: cfg, log: cfg.Logger, loggedAt: map[string]time.Time{}}
	if p.log == nil {
		p.log = slog.Default()
	}
	max := cfg.MaxConcurrent
	if max == 0 {
		max = DefaultMaxConcurrent
	}
	p.sem = make(chan struct{}, max)
	p.maxResponse = cfg.MaxResponseSize
	if p.maxResponse == 0 {
		p.maxResponse = DefaultMaxResponseSize
	}
	c := http.Client{}
	if cfg.Client != nil {
		c = *cfg.Client
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	p.client = &c
	p.m = newMetrics(cfg.Registry)
	p.captures = newCaptures(&p.cfg)
	return p, nil
}

// Install registers on node the handlers of the events p's Config lists:
// OnConnect, OnRefresh, OnSubscribe, OnPublish, OnMessage (send) and
// OnRPCFallback (RPC routes), replacing the node's earlier ones. Use
// PreferToken to keep JWT for connects that carry a token, and Capture
// around a connect handler that is not the proxy's when later endpoints
// forward headers or cookies.
func (p *Proxy) Install(node *herald.Node) {
	if p.cfg.Connect != nil {
		node.OnConnect(p.Capture(p.ConnectHandler()))
	}
	if p.captures != nil {
		node.OnActivity(p.captures.follow)
	}
	if p.cfg.Refresh != nil {
		node.OnRefresh(p.RefreshHandler())
	}
	if p.cfg.Subscribe != nil {
		node.OnSubscribe(p.SubscribeHandler())
	}
	if p.cfg.Publish != nil {
		node.OnPublish(p.PublishHandler())
	}
	if p.cfg.Send != nil {
		node.OnMessage(p.MessageHandler())
	}
	if len(p.cfg.RPC) > 0 {
		node.OnRPCFallback(p.RPCHandler())
	}
}

// Config returns the configuration p was created with.
func (p *Proxy) Config() Config { return p.cfg }

// logFailure logs a failed call at warn level, at most once a second per
// event and outcome: a backend that is down must not flood the logs.
func (p *Proxy) logFailure(event, outcome string, cause error) {
	key := event + " " + outcome
	now := time.Now()
	p.logMu.Lock()
	last := p.loggedAt[key]
	if now.Sub(last) < time.Second {
		p.logMu.Unlock()
		return
	}
	p.loggedAt[key] = now
	p.logMu.Unlock()
	p.log.Warn("proxy call to the backend failed; clients get error 112 (see herald_proxy_calls_total)", "event", event, "outcome", outcome, "error", cause)
}
