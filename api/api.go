package api

import (
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/protocol"
)

// DefaultMaxBodySize is the request body limit when Config.MaxBodySize is 0.
const DefaultMaxBodySize = 1 << 20

// Config configures a Handler. The zero value is a closed API (no key) that
// logs nothing.
type Config struct {
	// Key is the API key callers send in X-API-Key or as a Bearer token.
	// Empty closes the API: every request answers 401 saying how to set one.
	Key string
	// KeyHint says how to set the key, in the warning a Handler without
	// one logs and in its 401 answers (default: "set api.Config.Key"). A
	// program built on Herald names its own setting here; the herald
	// binary names --api-key.
	KeyHint string
	// MaxBodySize bounds a request body in bytes (default 1 MiB); a larger
	// body answers 413.
	MaxBodySize int64
	// Logger receives one access log line per request and the causes of
	// internal errors (default: discard). The key is never logged.
	Logger *slog.Logger
	// Registry, when set, receives the API's Prometheus metrics:
	// herald_api_requests_total{method,status} and
	// herald_api_request_duration_seconds{method}. Pass the registry of the
	// node (herald.Config.Registry) so that one scrape shows both. Handlers
	// sharing a registry share their series.
	Registry prometheus.Registerer
}

// Handler serves the HTTP API of one Node. Create it with New; it is safe for
// concurrent use.
type Handler struct {
	node    *herald.Node
	auth    keyChecker
	maxBody int64
	log     *slog.Logger
	metrics *metrics // nil without Config.Registry
}

var _ http.Handler = (*Handler)(nil)

// New returns the API handler for node. Mount it at /api/:
//
//	mux.Handle("/api/", api.New(node, api.Config{Key: key}))
func New(node *herald.Node, cfg Config) *Handler {
	if node == nil {
		panic("api: New needs a *herald.Node")
	}
	if cfg.MaxBodySize <= 0 {
		cfg.MaxBodySize = DefaultMaxBodySize
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.KeyHint == "" {
		cfg.KeyHint = "set api.Config.Key"
	}
	h := &Handler{node: node, auth: newKeyChecker(cfg.Key, cfg.KeyHint), maxBody: cfg.MaxBodySize, log: cfg.Logger}
	m, err := newMetrics(cfg.Registry)
	if err != nil {
		h.log.Warn("API metrics not registered", "error", err)
	}
	h.metrics = m
	if cfg.Key == "" {
		h.log.Warn("the HTTP API has no key and refuses every request; " + cfg.KeyHint)
	}
	return h
}

// ServeHTTP implements http.Handler: it authenticates the request, routes
// POST /api/<method>, writes one access log line and counts the request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	status := h.serve(w, r)
	h.metrics.observe(methodLabel(r.URL.Path), status, time.Since(start))
	h.log.LogAttrs(r.Context(), slog.LevelInfo, "api request",
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Duration("duration", time.Since(start)),
		slog.String("remote", h.node.ClientAddr(r)),
	)
}

// serve answers one request and returns the HTTP status it wrote.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request) int {
	if err := h.auth.check(r); err != nil {
		return h.fail(w, r, err)
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return h.fail(w, r, errorf(http.StatusMethodNotAllowed, protocol.CodeBadRequest,
			"method %s is not allowed: call POST /api/<method>", r.Method))
	}
	name := methodName(r.URL.Path)
	call := lookup(name)
	if call == nil {
		return h.fail(w, r, errorf(http.StatusNotFound, protocol.CodeMethodNotFound,
			"unknown API method %q; the methods are %s", name, methodList))
	}
	if err := checkContentType(r, name); err != nil {
		return h.fail(w, r, err)
	}
	if r.ContentLength > h.maxBody {
		return h.fail(w, r, errTooLarge(h.maxBody))
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.maxBody)
	result, err := call(h, r)
	if err != nil {
		return h.fail(w, r, err)
	}
	return writeJSON(w, http.StatusOK, result)
}

// methodName returns the API method of a request path: "/api/publish" when
// mounted at /api/, or "/publish" behind http.StripPrefix("/api", ...).
func methodName(p string) string {
	p = strings.TrimPrefix(p, "/")
	return strings.TrimPrefix(p, "api/")
}

// checkContentType accepts a body without Content-Type, with
// application/json (any parameters), or with the form type that `curl -d`
// sends by default; the body is JSON in every case. Accepting the form type
// opens no cross-site hole: every call needs the key in a header, which a
// cross-site form cannot set. publish also takes application/octet-stream,
// a binary publication's bytes.
func checkContentType(r *http.Request, method string) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && mt == octetStream && method == "publish" {
		return nil
	}
	if err != nil || (mt != "application/json" && mt != "application/x-www-form-urlencoded") {
		return errUnsupportedType(ct)
	}
	return nil
}
