package websocket

import (
	"bytes"
	"compress/flate"
	"io"
	"net/http"
	"strings"
	"sync"

	nbws "github.com/lesismal/nbio/nbhttp/websocket"
)

// permessage-deflate (RFC 7692), when Config.Compression is on.
//
// nbio negotiates the extension (without context takeover, so a connection
// keeps no compression state between messages), inflates what clients send
// within Config.MaxMessageSize (a message that inflates past it closes the
// connection with 1009 before more than the limit is allocated), and calls
// the compressor below for what the server sends. The compressor is
// Herald's own only because of the write accounting: Conn.Pending must
// count the bytes that go to the socket, which for a compressed message are
// known only once it is compressed.

// deflateTail ends every sync-flushed DEFLATE block; RFC 7692 section 7.2.1
// has the sender remove it from each message (the receiver puts it back).
var deflateTail = []byte{0x00, 0x00, 0xff, 0xff}

// compressorPools keeps flate writers per compression level: a writer is
// large (tens of KiB at BestSpeed) and a message needs one only briefly.
var compressorPools sync.Map // int -> *sync.Pool of *compressor

// compressor is the io.WriteCloser nbio compresses one message through.
type compressor struct {
	fw   *flate.Writer
	buf  bytes.Buffer
	raw  int // uncompressed bytes written
	dst  io.WriteCloser
	conn *Conn
	pool *sync.Pool
}

// newCompressor is nbio's WebsocketCompressor hook.
func newCompressor(ws *nbws.Conn, dst io.WriteCloser, level int) io.WriteCloser {
	p, _ := compressorPools.LoadOrStore(level, &sync.Pool{})
	pool := p.(*sync.Pool)
	c, _ := pool.Get().(*compressor)
	if c == nil {
		c = &compressor{}
		c.fw, _ = flate.NewWriter(&c.buf, level) // level is checked by the Upgrader
	}
	c.pool = pool
	c.dst = dst
	// Called inside the connection's WriteMessage, with its lock held, so
	// the session is read without the lock (as in onWritten).
	c.conn, _ = ws.Session().(*Conn)
	return c
}

func (c *compressor) Write(p []byte) (int, error) {
	c.raw += len(p)
	return c.fw.Write(p)
}

// Close hands the compressed message to nbio and corrects the connection's
// pending count: Conn.write counted the frame at its uncompressed size.
func (c *compressor) Close() error {
	err := c.fw.Flush()
	out := bytes.TrimSuffix(c.buf.Bytes(), deflateTail)
	if err == nil {
		_, err = c.dst.Write(out)
	}
	if c.conn != nil {
		c.conn.pending.Add(int64(frameSize(len(out)) - frameSize(c.raw)))
	}
	c.buf.Reset()
	c.fw.Reset(&c.buf)
	c.raw, c.dst, c.conn = 0, nil, nil
	c.pool.Put(c)
	return err
}

// offersDeflate reports whether the upgrade request offers
// permessage-deflate.
func offersDeflate(r *http.Request) bool {
	for _, v := range r.Header.Values("Sec-WebSocket-Extensions") {
		if strings.Contains(strings.ToLower(v), "permessage-deflate") {
			return true
		}
	}
	return false
}
