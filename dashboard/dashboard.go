package dashboard

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/internal/static"
)

// DefaultInterval is how often the page receives a snapshot when
// Config.Interval is 0.
const DefaultInterval = time.Second

// minInterval bounds Config.Interval from below.
const minInterval = 50 * time.Millisecond

// Config configures the dashboard. Set Password or APIKey, or the dashboard
// refuses every request.
type Config struct {
	// Password is the admin password. Any
	// user name is accepted.
	Password string
	// APIKey is the HTTP API key (api.Config.Key); it also opens the
	// dashboard, as its password.
	APIKey string
	// Interval is how often each open page receives a snapshot (default 1 s).
	Interval time.Duration
	// PasswordHint says how to set a password, in the warning and the
	// page of a dashboard without one (default: "set dashboard.Config.Password
	// or APIKey"). The herald binary names its flags here.
	PasswordHint string
	// Logger receives failed sign-ins and stream errors (default: discard).
	// Passwords and keys are never logged.
	Logger *slog.Logger
	// Context, when it is done, ends every open event stream; pass the
	// context whose end starts the server's shutdown, so that
	// http.Server.Shutdown does not wait for open pages. Default: streams end
	// only when their client goes away or the node drains.
	Context context.Context
}

// handler serves the page, its assets and its event stream.
type handler struct {
	node     *herald.Node
	auth     authenticator
	interval time.Duration
	log      *slog.Logger
	hint     string          // how to set a password (Config.PasswordHint)
	done     <-chan struct{} // Config.Context.Done(); nil never fires
	stats    *sampler
}

// New returns the dashboard of node, to be mounted at "/dashboard/" (and, if
// the mux does not redirect it, at "/dashboard"). It also works behind
// http.StripPrefix("/dashboard", ...).
func New(node *herald.Node, cfg Config) http.Handler {
	if node == nil {
		panic("dashboard: New needs a *herald.Node")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	cfg.Interval = max(cfg.Interval, minInterval)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{
		node:     node,
		auth:     newAuthenticator(cfg.Password, cfg.APIKey),
		interval: cfg.Interval,
		log:      cfg.Logger,
		hint:     cmp.Or(cfg.PasswordHint, defaultPasswordHint),
		stats:    newSampler(node, cfg.Interval),
	}
	if cfg.Context != nil {
		h.done = cfg.Context.Done()
	}
	if !h.auth.configured() {
		h.log.Warn("the dashboard has no password and refuses every request; " + h.hint)
	}
	return h
}

// ServeHTTP routes GET <mount>/, <mount>/events and the page's assets,
// after authentication. <mount> without its trailing slash redirects.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if rest, ok := strings.CutPrefix(p, "/dashboard"); ok {
		p = rest
	}
	if p == "" {
		// Relative, so that it also works behind a proxy that mounts
		// Herald under a path of its own.
		w.Header().Set("Location", "dashboard/")
		w.WriteHeader(http.StatusMovedPermanently)
		return
	}
	securityHeaders(w.Header())
	if !h.authorize(w, r) {
		return
	}
	if !static.MethodAllowed(w, r, "method not allowed: the dashboard only answers GET") {
		return
	}
	if p == "/events" {
		h.events(w, r)
		return
	}
	serveAsset(w, r, p)
}

// securityHeaders keeps the page to its own assets and out of frames.
func securityHeaders(hd http.Header) {
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; "+
		"img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
}
