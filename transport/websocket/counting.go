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
	conn  *Conn
	bound <-chan struct{} // closed once ServeHTTP bound conn (or gave up)
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
	return &countingConn{Conn: conn, owner: h.conn, bound: h.bound}, rw, nil
}

// countingConn takes the bytes each Write took off its owner's pending
// count, and parses what each Read brings itself, as the poller's data
// callback does for the other connections: through the owner's frame
// guard, with nbio's parse errors answered by a close frame.
type countingConn struct {
	net.Conn
	owner *Conn
	bound <-chan struct{}
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.owner.pending.Add(-int64(n))
	}
	return n, err
}

// Read reads from the TLS connection and parses the bytes itself; it
// reports none to nbio's read loop, which then has nothing left to parse.
// A stream the guard refused is read and dropped until the close
// handshake or the close grace ends the connection.
func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n == 0 {
		return n, err
	}
	<-c.bound // nbio's read loop starts before ServeHTTP binds the owner
	o := c.owner
	if o.ws == nil {
		return n, err // the upgrade failed; nobody will parse this
	}
	if !o.guard.check(p[:n]) {
		o.refuseFrame()
		return 0, err
	}
	if perr := o.ws.Parse(p[:n]); perr != nil {
		o.failParse(perr)
	}
	return 0, err
}
