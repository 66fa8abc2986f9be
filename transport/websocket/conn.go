package websocket

import (
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	nbws "github.com/lesismal/nbio/nbhttp/websocket"
)

// Conn is the write side of one WebSocket connection. Its methods are safe for
// concurrent use and never block on the network: bytes the socket cannot take
// yet wait in the poller's buffer, and Pending reports how many.
type Conn struct {
	srv  *Server
	ws   *nbws.Conn
	peer Peer

	pending atomic.Int64 // bytes handed to the poller, not yet written to the socket
	guard   frameGuard   // read by the connection's reader only (poller or read loop)

	mu        sync.Mutex
	closeSent bool // a close frame went out (ours or the answer to the peer's)
	closed    bool // the peer was told (HandleClose)
	aborted   bool
	timer     *time.Timer
}

// ErrAborted is the close error of a connection that the server dropped
// without a close handshake (a write failed, or the close grace ran out).
var ErrAborted = errors.New("websocket: connection dropped by the server")

// RemoteAddr returns the peer's address.
func (c *Conn) RemoteAddr() net.Addr { return c.ws.RemoteAddr() }

// Pending returns the bytes written to the connection that its socket has not
// taken yet: what a slow reader has left unread beyond the kernel's buffers.
func (c *Conn) Pending() int {
	n := c.pending.Load()
	if n < 0 {
		return 0
	}
	return int(n)
}

// WriteText sends data as one text frame.
func (c *Conn) WriteText(data []byte) error {
	return c.write(nbws.TextMessage, data)
}

// WriteBinary sends data as one binary frame.
func (c *Conn) WriteBinary(data []byte) error {
	return c.write(nbws.BinaryMessage, data)
}

// Subprotocol returns the subprotocol the handshake selected from
// Config.Subprotocols, or "" for none.
func (c *Conn) Subprotocol() string { return c.ws.Subprotocol() }

func (c *Conn) write(typ nbws.MessageType, data []byte) error {
	c.pending.Add(int64(frameSize(len(data))))
	return c.ws.WriteMessage(typ, data)
}

// Close sends a close frame with code and reason, then drops the connection
// when the peer answers or after the server's CloseGrace, whichever is first.
// Frames written before Close still reach a peer that keeps reading.
func (c *Conn) Close(code int, reason string) {
	c.mu.Lock()
	if c.closeSent || c.closed {
		c.mu.Unlock()
		return
	}
	c.closeSent = true
	c.timer = time.AfterFunc(c.srv.cfg.CloseGrace, c.Abort)
	c.mu.Unlock()
	if err := c.write(nbws.CloseMessage, closePayload(code, reason)); err != nil {
		c.Abort()
	}
}

// refuseFrame closes the connection with 1002 when its frame guard refused
// the stream.
func (c *Conn) refuseFrame() {
	c.Close(1002, c.guard.failed.String())
}

// failParse ends a connection whose bytes nbio could not parse. A message
// over the size limit was already answered with 1009 by nbio; any other
// error breaks the protocol (reserved bits or opcodes, a fragmented control
// frame, a bad continuation) and is answered with 1002, after which the
// rest of the stream is ignored: the parser cannot find its place again.
func (c *Conn) failParse(err error) {
	switch {
	case errors.Is(err, net.ErrClosed):
	case errors.Is(err, nbws.ErrMessageTooLarge), errors.Is(err, nbws.ErrControlMessageTooBig):
		c.ws.CloseWithError(err)
	default:
		c.guard.failed = reasonParse
		c.Close(1002, err.Error())
	}
}

// Abort drops the connection at once, without a close frame.
func (c *Conn) Abort() {
	c.mu.Lock()
	c.aborted = true
	c.mu.Unlock()
	_ = c.ws.Close()
	// If the connection was already gone before it was bound, nbio has
	// nobody left to tell: tell the peer here (finish runs once).
	c.finish(ErrAborted)
}

// finish tells the peer, once, that the connection is over.
func (c *Conn) finish(err error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	if c.aborted {
		err = ErrAborted
	}
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	c.mu.Unlock()
	c.peer.HandleClose(err)
}

// closePayload builds a close frame body; reason is cut to fit the 125-byte
// control frame limit.
func closePayload(code int, reason string) []byte {
	if len(reason) > 123 {
		// Cut on a character boundary: a close reason must be valid UTF-8.
		cut := 123
		for cut > 0 && !utf8.RuneStart(reason[cut]) {
			cut--
		}
		reason = reason[:cut]
	}
	b := make([]byte, 2+len(reason))
	binary.BigEndian.PutUint16(b, uint16(code))
	copy(b[2:], reason)
	return b
}

// frameSize returns the bytes a server frame with an n-byte payload takes on
// the wire (server frames are not masked).
func frameSize(n int) int {
	switch {
	case n < 126:
		return n + 2
	case n <= 65535:
		return n + 4
	default:
		return n + 10
	}
}
