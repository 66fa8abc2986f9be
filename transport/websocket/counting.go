package websocket

import (
	"bufio"
	"errors"
	"net"
	"net/http"
)

// countingHijacker hands the upgrader a connection that reports every
// write and guards every read, for connections nbio serves outside its
// poller (TLS from a net/http server), where the poller's callbacks that do
// both for the others never run.
type countingHijacker struct {
	http.ResponseWriter
	conn *Conn
}

func (h *countingHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("websocket: response does not implement http.Hijacker")
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	return &countingConn{Conn: conn, owner: h.conn}, rw, nil
}

// countingConn takes the bytes each Write took off its owner's pending
// count, and passes each Read through the owner's frame guard.
type countingConn struct {
	net.Conn
	owner *Conn
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.owner.pending.Add(-int64(n))
	}
	return n, err
}

// Read hides everything from a frame the guard refused on: it reports no bytes, so
// nbio's read loop keeps reading (and dropping) until the close handshake
// or the close grace ends the connection.
func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && !c.owner.guard.check(p[:n]) {
		c.owner.refuseFrame()
		return 0, err
	}
	return n, err
}
