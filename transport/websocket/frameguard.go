package websocket

// frameGuard follows the frame boundaries of a client's byte stream and
// reports the first frame whose header lacks the mask bit. RFC 6455 section
// 5.1 requires every client frame to be masked and the server to close the
// connection with 1002 when one is not; nbio unmasks what is masked and
// accepts the rest, so the guard sees the bytes before nbio does.
//
// It keeps no copy of the data: only the header bytes of a frame that a
// read split (at most 14) and the payload bytes still to skip.
type frameGuard struct {
	skip   uint64   // payload bytes of the current frame not seen yet
	hdr    [14]byte // a frame header split across reads
	hdrLen uint8
	failed bool // an unmasked frame was seen; everything after it is refused
}

// check reads data, the next bytes of the stream, and reports whether every
// frame that starts in it is masked. After a false it keeps answering false.
func (g *frameGuard) check(data []byte) bool {
	if g.failed {
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
			need = headerLen(g.hdr[1])
		}
		for int(g.hdrLen) < need && len(data) > 0 {
			g.hdr[g.hdrLen] = data[0]
			g.hdrLen++
			data = data[1:]
			if g.hdrLen == 2 {
				if g.hdr[1]&0x80 == 0 {
					g.failed = true
					return false
				}
				need = headerLen(g.hdr[1])
			}
		}
		if int(g.hdrLen) < need {
			return true // the rest of the header comes with the next read
		}
		g.skip = payloadLen(g.hdr[:g.hdrLen])
		g.hdrLen = 0
	}
	return true
}

// headerLen returns the length of a masked client frame's header from its
// second byte: 2 bytes, the extended payload length, and the 4-byte key.
func headerLen(b1 byte) int {
	switch b1 & 0x7f {
	case 126:
		return 2 + 2 + 4
	case 127:
		return 2 + 8 + 4
	default:
		return 2 + 4
	}
}

// payloadLen decodes the payload length of a complete frame header.
func payloadLen(h []byte) uint64 {
	switch n := h[1] & 0x7f; n {
	case 126:
		return uint64(h[2])<<8 | uint64(h[3])
	case 127:
		var v uint64
		for _, b := range h[2:10] {
			v = v<<8 | uint64(b)
		}
		return v
	default:
		return uint64(n)
	}
}
