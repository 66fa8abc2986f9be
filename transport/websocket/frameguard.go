package websocket

import "github.com/heraldrt/herald/internal/wsframe"

// frameGuard follows the frame boundaries of a client's byte stream and
// reports the first frame that breaks one of two rules nbio does not
// enforce: every client frame is masked (RFC 6455 section 5.1), and a
// continuation frame continues a fragmented message (section 5.4). nbio
// unmasks what is masked and accepts the rest, and drops a stray
// continuation without a close frame; the guard sees the bytes first so
// that both are answered with 1002.
//
// It keeps no copy of the data: only the header bytes of a frame that a
// read split (at most 14) and the payload bytes still to skip.
type frameGuard struct {
	skip      uint64                     // payload bytes of the current frame not seen yet
	hdr       [wsframe.MaxHeaderLen]byte // a frame header split across reads
	hdrLen    uint8
	fragments bool        // a fragmented message is open: its next data frame continues it
	failed    guardReason // why the stream was refused; everything after is refused too
}

// guardReason says why a guard refused a stream (a byte, not a string, to
// keep every connection's guard small).
type guardReason uint8

const (
	reasonNone guardReason = iota
	reasonUnmasked
	reasonContinuation
	reasonParse // nbio could not parse the stream (Conn.failParse)
)

// String is the close reason sent for r.
func (r guardReason) String() string {
	switch r {
	case reasonUnmasked:
		return "client frames must be masked"
	case reasonContinuation:
		return "continuation frame without a fragmented message"
	case reasonParse:
		return "WebSocket protocol error"
	}
	return ""
}

// check reads data, the next bytes of the stream, and reports whether every
// frame that starts in it is well formed as above. After a false it keeps
// answering false, and failed says why.
func (g *frameGuard) check(data []byte) bool {
	if g.failed != reasonNone {
		return false
	}
	for len(data) > 0 {
		if g.skip > 0 {
			n := uint64(len(data))
			if n > g.skip {
				n = g.skip
			}
			g.skip -= n
			data = data[n:]
			continue
		}
		// Collect a header: 2 bytes, then the extended length, then the key.
		need := 2
		if g.hdrLen >= 2 {
			need = wsframe.HeaderLen(g.hdr[1])
		}
		for int(g.hdrLen) < need && len(data) > 0 {
			g.hdr[g.hdrLen] = data[0]
			g.hdrLen++
			data = data[1:]
			if g.hdrLen == 2 {
				if !g.frameStart(g.hdr[0], g.hdr[1]) {
					return false
				}
				need = wsframe.HeaderLen(g.hdr[1])
			}
		}
		if int(g.hdrLen) < need {
			return true // the rest of the header comes with the next read
		}
		g.skip = wsframe.PayloadLen(g.hdr[:g.hdrLen])
		g.hdrLen = 0
	}
	return true
}

// frameStart checks a frame's first two header bytes and tracks
// fragmentation; control frames (opcode 8 and up) may come between the
// fragments of a message.
func (g *frameGuard) frameStart(b0, b1 byte) bool {
	if b1&0x80 == 0 {
		g.failed = reasonUnmasked
		return false
	}
	fin := b0&0x80 != 0
	switch b0 & 0x0f {
	case wsframe.OpContinuation:
		if !g.fragments {
			g.failed = reasonContinuation
			return false
		}
		g.fragments = !fin
	case wsframe.OpText, wsframe.OpBinary:
		g.fragments = !fin // nbio refuses a new message inside an open one
	}
	return true
}
