package bench

import (
	"errors"
	"fmt"

	"github.com/heraldrt/herald/internal/wsframe"
)

// This file takes frames out of a wsConn's read buffer.

// frame takes the next complete text or binary message out of the buffer,
// answering control frames on the way. ok is false when more bytes are
// needed.
func (c *wsConn) frame() (msg []byte, ok bool, err error) {
	if c.fragDone {
		c.releaseFrag()
	}
	for {
		avail := c.buf[c.r:c.w]
		if len(avail) < 2 {
			return nil, false, nil
		}
		fin, op := avail[0]&0x80 != 0, avail[0]&0x0F
		hlen := wsframe.HeaderLen(avail[1])
		if len(avail) < hlen {
			return nil, false, nil
		}
		n := wsframe.PayloadLen(avail)
		if n > maxFrame || op >= wsframe.OpClose && (n > 125 || !fin) {
			return nil, false, fmt.Errorf("websocket: bad frame (opcode %d, %d bytes)", op, n)
		}
		total := hlen + int(n)
		if len(avail) < total {
			c.reserve(total)
			return nil, false, nil
		}
		payload := avail[hlen:total]
		if avail[1]&0x80 != 0 {
			wsframe.Mask(payload, avail[hlen-4:hlen])
		}
		c.r += total
		switch {
		case op >= wsframe.OpClose:
			if err := c.control(op, payload); err != nil {
				return nil, false, err
			}
		case op == wsframe.OpContinuation && !c.fragging, op != wsframe.OpContinuation && c.fragging:
			return nil, false, errors.New("websocket: bad fragmentation")
		case fin && !c.fragging:
			if op == wsframe.OpText || op == wsframe.OpBinary {
				return payload, true, nil
			}
		default:
			if !c.fragging {
				c.fragging, c.fragOp = true, op
				c.fragPooled = bufPool.Get().(*[]byte)
				c.frag = (*c.fragPooled)[:0]
			}
			if len(c.frag)+len(payload) > maxFrame {
				return nil, false, fmt.Errorf("websocket: message larger than %d bytes", maxFrame)
			}
			c.frag = append(c.frag, payload...)
			if fin {
				c.fragging, c.fragDone = false, true
				if c.fragOp == wsframe.OpText || c.fragOp == wsframe.OpBinary {
					return c.frag, true, nil
				}
			}
		}
	}
}

// reserve makes sure a frame of total bytes fits from c.r on, moving to a
// pooled buffer when the connection's own is too small.
func (c *wsConn) reserve(total int) {
	if c.r+total <= len(c.buf) {
		return
	}
	if total <= len(c.small) {
		c.compact()
		return
	}
	if total <= len(c.buf) && c.big != nil {
		c.compact()
		return
	}
	bp := bufPool.Get().(*[]byte)
	if cap(*bp) < total {
		nb := make([]byte, 0, total)
		bp = &nb
	}
	nb := (*bp)[:cap(*bp)]
	c.w = copy(nb, c.buf[c.r:c.w])
	c.r = 0
	c.putBig()
	c.big, c.buf = bp, nb
}

// makeRoom prepares the buffer for a read: back to the connection's own
// buffer when nothing is pending, and some free space at the end.
func (c *wsConn) makeRoom() {
	if c.r == c.w {
		c.r, c.w = 0, 0
		if c.big != nil {
			c.putBig()
			c.buf = c.small
		}
		return
	}
	if c.w == len(c.buf) {
		c.compact()
		if c.w == len(c.buf) { // a frame header promising more than fits
			c.reserve(len(c.buf) * 2)
		}
	}
}

// compact moves the pending bytes to the front of the buffer.
func (c *wsConn) compact() {
	if c.r > 0 {
		c.w = copy(c.buf, c.buf[c.r:c.w])
		c.r = 0
	}
}

// putBig returns the pooled buffer of a large frame.
func (c *wsConn) putBig() {
	if c.big != nil {
		if cap(*c.big) == 64<<10 {
			bufPool.Put(c.big)
		}
		c.big = nil
	}
}

// releaseFrag returns the buffer of the last fragmented message.
func (c *wsConn) releaseFrag() {
	c.fragDone = false
	if c.fragPooled != nil {
		if cap(c.frag) == cap(*c.fragPooled) {
			*c.fragPooled = c.frag[:0]
			bufPool.Put(c.fragPooled)
		}
		c.fragPooled, c.frag = nil, nil
	}
}
