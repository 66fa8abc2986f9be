// Package websocket is Herald's event-driven WebSocket transport, built on
// github.com/lesismal/nbio.
//
// An upgraded connection is handed to nbio's poller: it holds no goroutine
// and no read or write buffer while idle. A Server is an http.Handler, so it
// mounts on any net/http server or mux; the standard server performs the
// HTTP handshake (with its header limits and timeouts) and then lets go of
// the connection.
//
// The seam to the rest of Herald is small: Accept decides whether to take a
// request and returns a Peer; the transport calls the Peer's HandleFrame for
// each text or binary message and HandleClose once at the end; the Peer
// writes through its *Conn (text or binary frames), whose Pending reports
// the bytes the socket has not taken yet, and whose Subprotocol says which
// of Config.Subprotocols the handshake selected.
//
// The transport holds clients to RFC 6455 where nbio does not: a frame
// guard (frameguard.go) closes a connection that sends an unmasked frame or
// a stray continuation with 1002, invalid UTF-8 in a text message closes
// with 1007, and nbio's own parse errors are answered with 1002 instead of
// a silent drop. Config.Compression negotiates permessage-deflate
// (deflate.go), with the message size limit applied after inflating.
//
// Message handlers run off the poller on a pool of goroutines that live on
// between messages (executor.go), so a handler starts on the stack its
// worker already grew.
package websocket

import (
	"compress/flate"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/heraldrt/herald/transport"
	"github.com/lesismal/nbio"
	"github.com/lesismal/nbio/nbhttp"
	nbws "github.com/lesismal/nbio/nbhttp/websocket"
)

// Peer is the upper layer's side of one connection (transport.Peer): the
// transport calls its HandleFrame for each message and HandleClose once
// at the end.
type Peer = transport.Peer

// Config holds the transport's settings. The zero value of each field picks
// the documented default.
type Config struct {
	// MaxMessageSize is the largest message a client may send, in bytes
	// (default 64 KiB). A larger one closes the connection with 1009 before
	// its body is buffered.
	MaxMessageSize int
	// MaxPendingBytes bounds the bytes written to a connection but not yet
	// taken by its socket (default 1 MiB). Conn.Pending reports the current
	// figure so the upper layer can act before the bound is reached; past it
	// the transport drops the connection.
	MaxPendingBytes int
	// HandshakeTimeout bounds writing the handshake response (default 10 s).
	HandshakeTimeout time.Duration
	// CloseGrace is how long a closing connection waits for the peer's close
	// frame before it is dropped (default 2 s).
	CloseGrace time.Duration
	// MaxHeaderCount bounds the header fields of an upgrade request
	// (default 100); more answers 431. (Their total size is the HTTP
	// server's MaxHeaderBytes.)
	MaxHeaderCount int
	// Compression negotiates permessage-deflate with clients that offer it
	// (default off). It saves bandwidth on text-heavy traffic at the price
	// of compressing each message once per connection, and
	// MaxMessageSize then bounds a client's message after inflating.
	Compression bool
	// CompressionLevel is the flate level of outgoing messages, from 1
	// (fastest, the default) to 9; -2 is Huffman-only.
	CompressionLevel int
	// CheckOrigin decides whether a request may upgrade; false answers 403.
	// Nil allows every request (Herald's Node installs its own check).
	CheckOrigin func(r *http.Request) bool
	// Subprotocols are the WebSocket subprotocols the server accepts, in
	// its order of preference: the first one the client also offers is
	// selected and echoed, and Conn.Subprotocol reports it. Nil selects
	// none, whatever the client offers.
	Subprotocols []string
	// ClientAddr names the client of a request in the transport's logs
	// (default: r.RemoteAddr); Herald's Node passes its own, which sees
	// through trusted proxies.
	ClientAddr func(r *http.Request) string
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
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = 10 * time.Second
	}
	if c.MaxHeaderCount <= 0 {
		c.MaxHeaderCount = 100
	}
	if c.CompressionLevel == 0 {
		c.CompressionLevel = flate.BestSpeed
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

// Admission is an upgrade request that AcceptFunc took: Bind makes the Peer
// once the handshake succeeded; Cancel (optional) releases what accepting
// reserved when the handshake failed instead.
type Admission struct {
	Bind   func(c *Conn) Peer
	Cancel func()
}

// AcceptFunc decides whether to take an upgrade request. It returns an
// Admission, or an HTTP status and message to refuse it. It runs before the
// handshake, so a refusal costs no WebSocket state.
type AcceptFunc func(r *http.Request) (adm *Admission, status int, msg string)

// Server upgrades HTTP requests to WebSocket connections served by an nbio
// poller. It is safe for concurrent use.
type Server struct {
	cfg      Config
	accept   AcceptFunc
	engine   *nbhttp.Engine
	upgrader *nbws.Upgrader
	exec     *executor // runs message handlers off the poller
	started  time.Time

	stopOnce sync.Once
}

// pollerStartGrace works around a race in nbio v1.6.8: a poller goroutine
// clears its shutdown flag when it starts, so an Engine.Stop that comes
// before the goroutine has run is lost and Stop waits forever. Stop never
// calls into nbio sooner than this after Start.
const pollerStartGrace = 100 * time.Millisecond

// NewServer starts the poller and returns a Server that hands each accepted
// connection to the Peer that accept binds. Call Stop to release the poller.
func NewServer(cfg Config, accept AcceptFunc) (*Server, error) {
	cfg.setDefaults()
	if cfg.CompressionLevel < flate.HuffmanOnly || cfg.CompressionLevel > flate.BestCompression {
		return nil, fmt.Errorf("websocket: compression level %d is not between %d and %d",
			cfg.CompressionLevel, flate.HuffmanOnly, flate.BestCompression)
	}
	exec, err := newExecutor(runtime.NumCPU()*executorWorkers, cfg.Logger)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, accept: accept, exec: exec}
	s.engine = nbhttp.NewEngine(nbhttp.Config{
		Name:           "herald",
		ServerExecutor: exec.execute,
		// Herald dials no WebSocket connections through nbio: without
		// this, nbio keeps a client task pool (a 64K-entry queue) for none.
		SupportServerOnly:            true,
		NPoller:                      runtime.GOMAXPROCS(0),
		ReleaseWebsocketPayload:      true,
		MaxWriteBufferSize:           cfg.MaxPendingBytes + 64<<10,
		MaxWebsocketFramePayloadSize: cfg.MaxPendingBytes,
		ReadLimit:                    cfg.MaxMessageSize + 64<<10,
	})
	s.engine.OnWrittenSize(s.onWritten)
	s.engine.OnData(s.onData)
	// nbio answers invalid UTF-8 with 1002; RFC 6455 asks for 1007, so
	// text messages are checked in onMessage instead. Close frame reasons
	// are still checked (onCloseFrame).
	s.engine.CheckUtf8 = func([]byte) bool { return true }
	if err := s.engine.Start(); err != nil {
		exec.stop()
		return nil, err
	}
	s.started = time.Now()
	u := nbws.NewUpgrader()
	u.Engine = s.engine
	u.KeepaliveTime = 0 // liveness is the upper layer's ping/pong
	u.MessageLengthLimit = cfg.MaxMessageSize
	u.HandshakeTimeout = cfg.HandshakeTimeout
	u.BlockingModTrasferConnToPoller = true
	u.CheckOrigin = func(*http.Request) bool { return true } // checked in ServeHTTP
	u.Subprotocols = cfg.Subprotocols
	if cfg.Compression {
		u.EnableCompression(true)
		_ = u.SetCompressionLevel(cfg.CompressionLevel) // checked above
		u.WebsocketCompressor = newCompressor
	}
	u.OnMessage(s.onMessage)
	u.OnClose(s.onClose)
	u.SetPingHandler(s.onPing)
	u.SetCloseHandler(s.onCloseFrame)
	s.upgrader = u
	return s, nil
}

// ServeHTTP upgrades the request when accept takes it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if headerCount(r.Header) > s.cfg.MaxHeaderCount {
		http.Error(w, "websocket: too many request header fields", http.StatusRequestHeaderFieldsTooLarge)
		return
	}
	if s.cfg.CheckOrigin != nil && !s.cfg.CheckOrigin(r) {
		http.Error(w, "websocket: origin not allowed", http.StatusForbidden)
		return
	}
	adm, status, msg := s.accept(r)
	if adm == nil {
		transport.Refuse(w, status, msg)
		return
	}
	c := &Conn{srv: s}
	if r.TLS != nil {
		// A TLS connection from net/http cannot move to the poller: nbio
		// serves it in blocking mode, where the poller's callbacks never
		// run. Count its writes and parse its reads on the connection.
		bound := make(chan struct{})
		defer close(bound)
		w = &countingHijacker{ResponseWriter: w, conn: c, bound: bound}
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.cfg.Logger.Debug("websocket upgrade failed", "remote", s.cfg.ClientAddr(r), "error", err)
		if adm.Cancel != nil {
			adm.Cancel()
		}
		return
	}
	c.ws = ws
	c.peer = adm.Bind(c)
	ws.SetSession(c) // publishes c, fully built, to the poller's goroutines
}

// Stop closes every connection and stops the poller.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		if age := time.Since(s.started); age < pollerStartGrace {
			time.Sleep(pollerStartGrace - age)
		}
		s.engine.Stop()
		s.exec.stop()
	})
}

// connOf returns the *Conn bound to ws, waiting briefly for ServeHTTP to
// bind it: a fast client's first frame can arrive between the handshake
// response and the binding. SessionWithLock takes the lock SetSession
// publishes the binding under, so every field of the Conn is visible here.
// The wait is bounded (a loaded machine can take a while to schedule the
// handler's goroutine, so the bound is generous); past it the connection
// is dropped.
func connOf(ws *nbws.Conn) *Conn {
	const bindWait = 10 * time.Second
	pause := 20 * time.Microsecond
	for deadline := time.Now().Add(bindWait); ; {
		if c, ok := ws.SessionWithLock().(*Conn); ok {
			return c
		}
		if time.Now().After(deadline) {
			return nil
		}
		time.Sleep(pause)
		pause = min(pause*2, 5*time.Millisecond)
	}
}

// onData sees every read of a connection on the poller. It refuses an
// unmasked client frame before nbio parses it (nbio would accept it), and
// answers the protocol errors nbio finds with a close frame (nbio would
// drop the connection without one).
func (s *Server) onData(nc *nbio.Conn, data []byte) {
	ws, ok := nc.Session().(*nbws.Conn)
	if !ok {
		nc.DataHandler()(nc, data)
		return
	}
	// On the poller goroutine: waiting here for ServeHTTP to bind the
	// connection holds up the poller's other connections, but the wait is
	// rare (a client must answer the 101 before the handler's next few
	// statements run: 14 times in 89,000 connections under churn) and
	// starts at 20 µs.
	c := connOf(ws)
	if c == nil {
		_ = ws.Close()
		return
	}
	if !c.guard.check(data) {
		c.refuseFrame()
		return
	}
	if err := ws.Parse(data); err != nil {
		c.failParse(err)
	}
}

func (s *Server) onMessage(ws *nbws.Conn, typ nbws.MessageType, data []byte) {
	c := connOf(ws)
	if c == nil {
		_ = ws.Close()
		return
	}
	text := typ == nbws.TextMessage
	if text && !utf8.Valid(data) {
		c.Close(1007, "invalid UTF-8 in a text message")
		return
	}
	c.peer.HandleFrame(data, text)
}

func (s *Server) onClose(ws *nbws.Conn, err error) {
	c, _ := ws.SessionWithLock().(*Conn)
	if c == nil {
		return
	}
	c.finish(normalizeCloseError(err))
}

// onPing answers a WebSocket-level ping through the Conn, so that the pong
// is counted in its pending bytes.
func (s *Server) onPing(ws *nbws.Conn, data string) {
	if c := connOf(ws); c != nil {
		_ = c.write(nbws.PongMessage, []byte(data))
	}
}

// onCloseFrame answers the peer's close frame with the same code; nbio then
// closes the connection.
func (s *Server) onCloseFrame(ws *nbws.Conn, code int, reason string) {
	c := connOf(ws)
	if c == nil {
		return
	}
	// nbio closes the socket as soon as this returns; give the client the
	// moment it needs to close its end first (closepeer.go). The close is
	// then the peer's hang-up, seen by the poller as end of file: record
	// the code of the handshake first, as nbio does for codes other than
	// 1000, so that the connection still ends with the client's code.
	if code == 1000 {
		ws.SetCloseError(&nbws.CloseError{Code: code, Reason: reason})
	}
	defer c.awaitPeerClose()
	if !utf8.ValidString(reason) {
		_ = c.write(nbws.CloseMessage, closePayload(1007, "invalid UTF-8 in the close reason"))
		return
	}
	c.mu.Lock()
	sent := c.closeSent
	c.closeSent = true
	c.mu.Unlock()
	if sent {
		return // this was the answer to our own close frame
	}
	if code == 1005 {
		_ = c.write(nbws.CloseMessage, nil)
		return
	}
	_ = c.write(nbws.CloseMessage, closePayload(code, ""))
}

func (s *Server) onWritten(nc *nbio.Conn, _ []byte, n int) {
	ws, ok := nc.Session().(*nbws.Conn)
	if !ok {
		return
	}
	// Called with ws's lock held (inside its WriteMessage), so the session
	// is read without the lock; a Conn is only ever seen fully built.
	if c, ok := ws.Session().(*Conn); ok {
		c.pending.Add(-int64(n))
	}
}

// CloseError reports a close frame received from the peer.
type CloseError = nbws.CloseError

// ErrMessageTooLarge is the close error when a client exceeded
// Config.MaxMessageSize.
var ErrMessageTooLarge = nbws.ErrMessageTooLarge

func normalizeCloseError(err error) error {
	var ce *nbws.CloseError
	if errors.As(err, &ce) && (ce.Code == 1000 || ce.Code == 1001) {
		return nil
	}
	return err
}

// headerCount counts header fields, each value of a repeated one apart.
func headerCount(h http.Header) int {
	n := 0
	for _, vs := range h {
		n += len(vs)
	}
	return n
}
