package bench

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	mrand "math/rand/v2"

	"github.com/heraldrt/herald/internal/wsframe"
)

// readBufSize is each connection's own read buffer. A frame that does not
// fit is read into a pooled buffer, returned once the frame is consumed.
const readBufSize = 1024

// maxFrame bounds one incoming message.
const maxFrame = 16 << 20

// bufPool holds 64 KiB buffers for large frames and outgoing frames.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// closeError is a close frame received from the server.
type closeError struct {
	code   int
	reason string
}

func (e *closeError) Error() string {
	return fmt.Sprintf("closed by server: %d %s", e.code, e.reason)
}

// wsConn is a minimal client-side WebSocket connection: one reader and
// serialized writers. Bytes read wait in buf[r:w].
type wsConn struct {
	conn  net.Conn
	rc    syscall.RawConn // nil: no raw reads, serve falls back to next
	small []byte          // the connection's own buffer
	buf   []byte          // small, or a pooled buffer while a large frame is read
	big   *[]byte
	r, w  int

	frag       []byte // a fragmented message being put together
	fragOp     byte
	fragging   bool
	fragPooled *[]byte
	fragDone   bool // the last message returned was frag: release it

	wmu       sync.Mutex
	closeSent bool // a close frame went out; under wmu

	// wire counts the bytes read from the socket after the handshake,
	// frame headers included, when set.
	wire *atomic.Int64
}

// dialWS opens a TCP connection with d and performs the WebSocket
// handshake for u within timeout, offering subprotocol unless it is "" (and
// then requiring the server to select it).
func dialWS(d *net.Dialer, u *url.URL, subprotocol string, timeout time.Duration) (*wsConn, error) {
	conn, err := d.Dial("tcp", u.Host)
	if err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(time.Now().Add(timeout))
	var raw [16]byte
	_, _ = rand.Read(raw[:])
	key := base64.StdEncoding.EncodeToString(raw[:])
	req := wsframe.UpgradeRequest(u, key)
	if subprotocol != "" {
		req = strings.TrimSuffix(req, "\r\n") + "Sec-WebSocket-Protocol: " + subprotocol + "\r\n\r\n"
	}
	if _, err := io.WriteString(conn, req); err != nil {
		_ = conn.Close()
		return nil, err
	}
	c := &wsConn{conn: conn, rc: rawConnOf(conn), small: make([]byte, readBufSize)}
	c.buf = c.small
	if err := c.readHandshake(key, subprotocol); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("handshake: %w", err)
	}
	_ = conn.SetDeadline(time.Time{})
	return c, nil
}

// readHandshake reads the server's answer and checks its 101 status, its
// accept key and the subprotocol it selected. Frames that follow it stay
// buffered.
func (c *wsConn) readHandshake(key, subprotocol string) error {
	end := -1
	for end < 0 {
		if c.w == len(c.buf) {
			return errors.New("response headers too large")
		}
		n, err := c.conn.Read(c.buf[c.w:])
		c.w += n
		if err != nil {
			return err
		}
		end = bytes.Index(c.buf[:c.w], []byte("\r\n\r\n"))
	}
	head := c.buf[:end]
	c.r = end + 4
	status, rest, _ := bytes.Cut(head, []byte("\r\n"))
	if !bytes.HasPrefix(status, []byte("HTTP/1.1 101")) {
		return fmt.Errorf("server answered %q", status)
	}
	want := wsframe.AcceptKey(key)
	accepted, selected := false, ""
	for line := range bytes.SplitSeq(rest, []byte("\r\n")) {
		name, value, _ := bytes.Cut(line, []byte(":"))
		name, value = bytes.TrimSpace(name), bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Sec-WebSocket-Accept")):
			accepted = string(value) == want
		case bytes.EqualFold(name, []byte("Sec-WebSocket-Protocol")):
			selected = string(value)
		}
	}
	if !accepted {
		return errors.New("missing or wrong Sec-WebSocket-Accept")
	}
	if selected != subprotocol {
		return fmt.Errorf("offered subprotocol %q, the server selected %q", subprotocol, selected)
	}
	return nil
}

// next returns the next text message, reading as needed. The slice is
// valid until the next call of next or serve.
func (c *wsConn) next() ([]byte, error) {
	for {
		msg, ok, err := c.frame()
		if err != nil || ok {
			return msg, err
		}
		c.makeRoom()
		n, err := c.conn.Read(c.buf[c.w:])
		c.w += n
		c.count(n)
		if err != nil {
			return nil, err
		}
	}
}

// serve calls handle with each text message until the connection fails.
// It reads inside one RawConn.Read call: after a read that left room in
// the buffer the socket is known to be empty, so it waits for the
// poller's next readiness edge instead of making a read system call that
// would fail with EAGAIN (which is what net.Conn.Read does). That halves
// the read system calls per message. Staying inside the one call matters:
// each new RawConn.Read forgets readiness seen before it started.
func (c *wsConn) serve(handle func([]byte)) error {
	if err := c.drainFrames(handle); err != nil {
		return err
	}
	if c.rc == nil {
		for {
			msg, err := c.next()
			if err != nil {
				return err
			}
			handle(msg)
		}
	}
	var ferr error
	err := c.rc.Read(func(fd uintptr) bool {
		for {
			c.makeRoom()
			space := len(c.buf) - c.w
			n, err := sysRead(fd, c.buf[c.w:])
			switch {
			case err == syscall.EINTR:
				continue
			case err == syscall.EAGAIN:
				return false
			case err != nil:
				ferr = err
				return true
			case n == 0:
				ferr = io.EOF
				return true
			}
			c.w += n
			c.count(n)
			if ferr = c.drainFrames(handle); ferr != nil {
				return true
			}
			if n < space {
				return false // drained: wait for the next edge
			}
		}
	})
	if err != nil {
		return err
	}
	return ferr
}

// drainFrames hands every complete buffered message to handle.
func (c *wsConn) drainFrames(handle func([]byte)) error {
	for {
		msg, ok, err := c.frame()
		if err != nil || !ok {
			return err
		}
		handle(msg)
	}
}

// control answers a ping or a close frame.
func (c *wsConn) control(op byte, body []byte) error {
	switch op {
	case wsframe.OpPing:
		return c.writeFrame(wsframe.OpPong, body)
	case wsframe.OpClose:
		// Answer the server's close frame, unless this is the answer to
		// ours (RFC 6455 section 5.5.1: one close frame each way).
		ce := &closeError{code: 1005}
		var answer []byte
		if len(body) >= 2 {
			ce.code = int(binary.BigEndian.Uint16(body))
			ce.reason = string(body[2:])
			answer = body[:2]
		}
		_ = c.writeClose(answer)
		return ce
	}
	return nil
}

// writeText sends one masked text frame.
func (c *wsConn) writeText(p []byte) error { return c.writeFrame(wsframe.OpText, p) }

// count adds n bytes read to the wire counter, when there is one.
func (c *wsConn) count(n int) {
	if c.wire != nil && n > 0 {
		c.wire.Add(int64(n))
	}
}

// writeFrame sends one masked frame in one write.
func (c *wsConn) writeFrame(op byte, p []byte) error {
	bp := bufPool.Get().(*[]byte)
	var mask [4]byte
	binary.LittleEndian.PutUint32(mask[:], mrand.Uint32())
	b := wsframe.AppendFrame((*bp)[:0], true, op, p, mask[:])
	c.wmu.Lock()
	_, err := c.conn.Write(b)
	c.wmu.Unlock()
	if cap(b) == 64<<10 {
		*bp = b[:0]
		bufPool.Put(bp)
	}
	return err
}

// closeGracefully sends a close frame (1000) and waits up to wait for the
// server's answer before dropping the connection.
func (c *wsConn) closeGracefully(wait time.Duration) {
	_ = c.conn.SetDeadline(time.Now().Add(wait))
	if err := c.writeClose(binary.BigEndian.AppendUint16(nil, 1000)); err == nil {
		for {
			if _, err := c.next(); err != nil {
				break
			}
		}
	}
	c.closeNow()
}

// writeClose sends a close frame with body, once per connection: a second
// call does nothing.
func (c *wsConn) writeClose(body []byte) error {
	c.wmu.Lock()
	sent := c.closeSent
	c.closeSent = true
	c.wmu.Unlock()
	if sent {
		return nil
	}
	return c.writeFrame(wsframe.OpClose, body)
}

// closeNow drops the connection.
func (c *wsConn) closeNow() { _ = c.conn.Close() }

// closeCode is the code of a close frame inside err, or "".
func closeCode(err error) string {
	var ce *closeError
	if errors.As(err, &ce) {
		return strconv.Itoa(ce.code)
	}
	return ""
}
