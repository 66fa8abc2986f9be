package websocket

import (
	"bufio"
	"errors"
	"net"
	"net/http"
)

// countingHijacker hands the upgrader a connection that reports every
// write, for connections nbio serves outside its poller (TLS from a
// net/http server).
type countingHijacker struct {
	http.ResponseWriter
	written func(n int)
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
	return &countingConn{Conn: conn, written: h.written}, rw, nil
}

// countingConn reports the bytes each Write took.
type countingConn struct {
	net.Conn
	written func(n int)
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.written(n)
	}
	return n, err
}
