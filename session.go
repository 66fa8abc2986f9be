package herald

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/heraldrt/herald/protocol"
	hs "github.com/heraldrt/herald/transport/httpstream"
	ws "github.com/heraldrt/herald/transport/websocket"
)

// Session is the server side of one client connection. Handlers receive it
// to learn who the client is and to act on it; its methods are safe for
// concurrent use.
type Session struct {
	node       *Node
	conn       transportConn
	id         string
	remoteAddr string
	header     http.Header // handshake headers, dropped after connect

	// Set once by connect, read-only afterwards.
	user string
	info json.RawMessage

	// connectMu is held while connect runs its server-side subscriptions;
	// Node.Subscribe and Node.Unsubscribe take it before acting on the
	// session. Lock order: connectMu before mu.
	connectMu sync.Mutex

	mu     sync.Mutex
	queue  *msgQueue // encoded messages waiting for the writer; nil when none
	queued int       // bytes in queue
	subs   subList

	// Command rate, used only by the connection's own goroutine (commands
	// of one connection are handled one at a time): the commands counted
	// before a limiter was needed (limits.go), then the limiter.
	commands   int32
	cmdLimiter *commandLimiter

	// handling is non-zero while a frame's commands run; a pong queued
	// behind a slow handler is then not counted as missing.
	handling atomic.Int32

	// The fields below are under mu unless said otherwise; the small ones
	// are kept together so that they share words.
	connected    bool // set once by connect
	countedUser  bool // set once by connect: holds a place in its user's connection count (user_limit.go)
	flushing     bool // scheduled on the writer or being flushed
	awaitingPong bool
	closing      bool // no more deliveries; a close is on its way
	closeSent    bool
	closed       bool
	wheelIn      bool              // linked in the wheel; under the wheel's lock
	transport    transportKind     // set once by accept
	enc          protocol.Encoding // set once by accept: how messages are encoded, both ways

	// rare is what only some sessions need, nil until one does.
	rare *rareState

	// The waiting heartbeat step (heartbeat.go, wheel.go): the links under
	// the wheel's lock, wheelTick under both locks.
	wheelNext, wheelPrev *Session
	wheelTick            int64
}

// rareState is what a session needs only sometimes, kept out of the
// Session so that an idle connection does not pay for it: the credentials'
// expiry, for connections whose credentials expire (expiry.go), and the
// close code and reason, once the session is closing. Under Session.mu.
type rareState struct {
	expiry
	closeCode   int
	closeReason string
}

// rareLocked returns s.rare, allocating it when needed. mu is held.
func (s *Session) rareLocked() *rareState {
	if s.rare == nil {
		s.rare = &rareState{}
	}
	return s.rare
}

// closeCodeLocked returns the code and reason closeLocked recorded, or 0.
// mu is held.
func (s *Session) closeCodeLocked() (int, string) {
	if s.rare == nil {
		return 0, ""
	}
	return s.rare.closeCode, s.rare.closeReason
}

// transportConn is what a Session needs from its connection; the
// transport's *websocket.Conn is the one implementation outside tests.
type transportConn interface {
	WriteText(data []byte) error
	Pending() int
	Close(code int, reason string)
	Abort()
}

var (
	_ transportConn = (*ws.Conn)(nil)
	_ transportConn = (*hs.Conn)(nil)
	_ binaryConn    = (*ws.Conn)(nil)
)

// binaryConn is a transportConn that also sends binary frames: the
// WebSocket one, the only transport of the binary encoding.
type binaryConn interface {
	WriteBinary(data []byte) error
}

// encodingOf returns the encoding a new connection negotiated: the
// binary encoding when a WebSocket handshake selected its subprotocol,
// JSON otherwise (the fallback transports are JSON only).
func encodingOf(c transportConn) protocol.Encoding {
	if wc, ok := c.(*ws.Conn); ok {
		return protocol.EncodingOf(wc.Subprotocol())
	}
	return protocol.JSON
}

// transportKind names a Session's transport, for the metrics.
type transportKind uint8

const (
	transportWebSocket transportKind = iota
	transportHTTPStream
	transportSSE
)

// transportNames are the transports' names, as the metrics and the SDKs
// spell them.
var transportNames = [...]string{"websocket", "http-stream", "sse"}

// String returns the transport's name.
func (k transportKind) String() string { return transportNames[k] }

// logger returns the node's logger with the connection's attributes. It is
// built when something is logged, so that an idle connection holds none.
func (s *Session) logger() *slog.Logger {
	if s.user != "" {
		return s.node.log.With("client", s.id, "user", s.user)
	}
	return s.node.log.With("client", s.id)
}

// debug logs at debug level with the connection's attributes. It checks
// the level first: building the connection's logger allocates, and every
// connect and disconnect logs here.
func (s *Session) debug(msg string, args ...any) {
	if s.node.log.Enabled(context.Background(), slog.LevelDebug) {
		s.logger().Debug(msg, args...)
	}
}

// ID returns the connection's id, unique across nodes.
func (s *Session) ID() string { return s.id }

// User returns the user id set at connect ("" for anonymous).
func (s *Session) User() string { return s.user }

// Info returns the connection info set at connect.
func (s *Session) Info() json.RawMessage { return s.info }

// RemoteAddr returns the client's network address.
func (s *Session) RemoteAddr() string { return s.remoteAddr }

// Channels returns the channels the session is subscribed to, sorted.
func (s *Session) Channels() []string {
	s.mu.Lock()
	out := make([]string, 0, len(s.subs))
	for _, sub := range s.subs {
		out = append(out, sub.channel())
	}
	s.mu.Unlock()
	sort.Strings(out)
	return out
}

// Send pushes a `message` to this connection. data must be valid JSON.
func (s *Session) Send(data json.RawMessage) error {
	d, ok := protocol.Compact(data)
	if !ok {
		return ErrInvalidData
	}
	s.enqueue(s.enc.EncodePush(&protocol.Push{Op: protocol.OpMessage, Data: d}))
	return nil
}

// Encoding returns the wire encoding the connection negotiated: JSON, or
// the binary encoding (Protobuf) on a WebSocket that asked for it.
func (s *Session) Encoding() protocol.Encoding { return s.enc }

func (s *Session) clientInfo() *protocol.ClientInfo {
	return &protocol.ClientInfo{Client: s.id, User: s.user, Data: s.info}
}
