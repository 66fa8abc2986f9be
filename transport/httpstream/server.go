// Package httpstream is Herald's fallback transport for clients that cannot
// open a WebSocket: the server's messages flow down one long HTTP response,
// and the client's commands come up as POST requests.
//
// Two response formats carry the same protocol v1 messages:
//
//   - HTTP-streaming (GET on a path not ending in /sse): a chunked
//     application/x-ndjson response, one JSON message per line;
//   - Server-Sent Events (GET on a path ending in /sse): a text/event-stream
//     that an EventSource reads, one event per write, its data lines the
//     messages.
//
// The first record of either stream is the transport's own hello,
// {"session":"...","secret":"..."}: the stream's id and a secret that every
// POST for it must carry. Commands are POSTed to any node: the body's first
// line is {"session":"...","secret":"...","seq":N}, the lines after it the
// commands, exactly as in a WebSocket text frame. A node that does not hold
// the stream hands the commands to Config.Forward, which carries them to
// the node that does (Herald's Node sends them through its broker), where
// Deliver runs them. seq numbers a stream's POSTs from 1: the node that
// holds the stream runs them in that order, once each, whatever route they
// took.
//
// The seam to the rest of Herald is the WebSocket transport's: Accept
// returns a Peer for a new stream, the transport calls its HandleFrame for
// each POSTed batch (one at a time, in seq order) and HandleClose once at
// the end, and the Peer writes through the *Conn.
//
// Unlike the WebSocket transport, an open stream holds one goroutine (the
// HTTP server's, which writes the response); running a POST's commands
// takes another only while there are commands to run.
package httpstream

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/heraldrt/herald/transport"
)

// Peer is the upper layer's side of one stream (transport.Peer). Its
// HandleFrame gets the commands of one POST, in seq order, with text
// always true; HandleClose's err is nil when the server closed the stream
// (Conn.Close) and says why otherwise.
type Peer = transport.Peer

// Config holds the transport's settings. The zero value of each field picks
// the documented default.
type Config struct {
	// MaxMessageSize is the largest batch of commands one POST may carry,
	// in bytes (default 64 KiB); a larger body is answered 413.
	MaxMessageSize int
	// MaxPendingBytes bounds the bytes written to a stream but not yet
	// taken by its socket (default 1 MiB). Conn.Pending reports the
	// current figure so the upper layer can act first; past the bound the
	// transport drops the stream.
	MaxPendingBytes int
	// WriteTimeout bounds one write of a stream (default 10 s): a client
	// that reads nothing for that long is dropped.
	WriteTimeout time.Duration
	// CloseGrace bounds how long a closing stream may take to write what
	// was queued before Close (default 2 s).
	CloseGrace time.Duration
	// CheckOrigin decides whether a request (a stream or a POST) is
	// allowed; false answers 403. Nil allows every request.
	CheckOrigin func(r *http.Request) bool
	// ClientAddr names the client of a request in the logs (default:
	// r.RemoteAddr).
	ClientAddr func(r *http.Request) string
	// Forward carries the commands POSTed for a stream this server does
	// not hold to the server that does, which calls Deliver. Nil answers
	// such POSTs 404.
	Forward func(ctx context.Context, c Commands) error
	// Logger receives transport errors (default: discard).
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.MaxMessageSize <= 0 {
		c.MaxMessageSize = 64 << 10
	}
	if c.MaxPendingBytes <= 0 {
		c.MaxPendingBytes = 1 << 20
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.CloseGrace <= 0 {
		c.CloseGrace = 2 * time.Second
	}
	if c.ClientAddr == nil {
		c.ClientAddr = func(r *http.Request) string { return r.RemoteAddr }
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// AcceptFunc decides whether to open a stream for r, bound to c. It returns
// the stream's Peer, or an HTTP status and message to refuse it. A Peer it
// returns is told (HandleClose) when the stream ends, whatever ends it.
type AcceptFunc func(r *http.Request, c *Conn) (p Peer, status int, msg string)

// Server serves streams (GET) and the commands POSTed for them. It is an
// http.Handler, safe for concurrent use.
type Server struct {
	cfg    Config
	accept AcceptFunc

	mu      sync.Mutex
	conns   map[string]*Conn // open streams by session id
	stopped bool
}

// NewServer returns a Server that binds each new stream to the Peer that
// accept returns. Call Stop to end every stream.
func NewServer(cfg Config, accept AcceptFunc) *Server {
	cfg.setDefaults()
	return &Server{cfg: cfg, accept: accept, conns: make(map[string]*Conn)}
}

// ErrStopped is the close error of streams that Stop ended.
var ErrStopped = errors.New("httpstream: server stopped")

// ServeHTTP opens a stream (GET; Server-Sent Events when the path ends in
// /sse) or takes commands (POST).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.cfg.CheckOrigin != nil && !s.cfg.CheckOrigin(r) {
		http.Error(w, "httpstream: origin not allowed", http.StatusForbidden)
		return
	}
	allowCrossOrigin(w, r)
	switch r.Method {
	case http.MethodGet:
		f := formatStream
		if strings.HasSuffix(r.URL.Path, "/sse") {
			f = formatSSE
		}
		s.serveStream(w, r, f)
	case http.MethodPost:
		s.serveCommands(w, r)
	case http.MethodOptions:
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "httpstream: GET opens a stream, POST sends commands", http.StatusMethodNotAllowed)
	}
}

// allowCrossOrigin lets a page from another origin, which CheckOrigin
// allowed, read the answers (fetch and EventSource enforce CORS; a
// WebSocket does not).
func allowCrossOrigin(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" {
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Add("Vary", "Origin")
}

// Stop ends every stream at once and refuses new ones.
func (s *Server) Stop() {
	s.mu.Lock()
	s.stopped = true
	all := make([]*Conn, 0, len(s.conns))
	for _, c := range s.conns {
		all = append(all, c)
	}
	s.mu.Unlock()
	for _, c := range all {
		c.abort(ErrStopped)
	}
}

// register adds c under a fresh session id, or reports false once stopped.
func (s *Server) register(c *Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return false
	}
	for {
		c.id = randomHex(12)
		if _, taken := s.conns[c.id]; !taken {
			break
		}
	}
	c.secret = randomHex(16)
	s.conns[c.id] = c
	return true
}

func (s *Server) unregister(c *Conn) {
	s.mu.Lock()
	if s.conns[c.id] == c {
		delete(s.conns, c.id)
	}
	s.mu.Unlock()
}

func (s *Server) lookup(id string) *Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns[id]
}

// randomHex returns 2n random hex characters.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
