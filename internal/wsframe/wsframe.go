// Package wsframe reads and writes the framing of RFC 6455 section 5.2:
// the one parser of frame headers behind the transport's frame guard, the
// load generator's client (internal/bench) and the raw connections of tests
// (internal/wstest). The header functions do not allocate and inline, so
// that hot paths can use them. UpgradeRequest and AcceptKey are the pieces
// of the opening handshake (section 4) that those hand-written peers share.
package wsframe

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net/url"
)

// UpgradeRequest returns the opening handshake a client sends for the
// WebSocket URL u, with key as its Sec-WebSocket-Key.
func UpgradeRequest(u *url.URL, key string) string {
	return "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " +
		key + "\r\n\r\n"
}

// AcceptKey returns the Sec-WebSocket-Accept value a server answers to the
// handshake's Sec-WebSocket-Key (RFC 6455 section 4.2.2).
func AcceptKey(key string) string {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// Opcodes (the low four bits of a frame's first byte).
const (
	OpContinuation byte = 0x0
	OpText         byte = 0x1
	OpBinary       byte = 0x2
	OpClose        byte = 0x8
	OpPing         byte = 0x9
	OpPong         byte = 0xA
)

// MaxHeaderLen is the longest header: 2 bytes, an 8-byte payload length and
// a 4-byte masking key.
const MaxHeaderLen = 14

// HeaderLen returns the length of a frame's header from its second byte:
// 2 bytes, the extended payload length (none, 2 or 8 bytes), and the 4-byte
// masking key when the mask bit is set.
func HeaderLen(b1 byte) int {
	n := 2
	switch b1 & 0x7F {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4
	}
	return n
}

// PayloadLen decodes the payload length from h, a frame header of at least
// HeaderLen(h[1]) bytes.
func PayloadLen(h []byte) uint64 {
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		n = uint64(binary.BigEndian.Uint16(h[2:]))
	case 127:
		n = binary.BigEndian.Uint64(h[2:])
	}
	return n
}

// AppendHeader appends the header of a frame with an n-byte payload. op is
// the opcode, with any RSV bits the caller sets; key is the 4-byte masking
// key, or nil for an unmasked frame (a server's). The caller appends the
// payload, masked with Mask when key is set.
func AppendHeader(dst []byte, fin bool, op byte, n int, key []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	var maskBit byte
	if key != nil {
		maskBit = 0x80
	}
	switch {
	case n < 126:
		dst = append(dst, b0, maskBit|byte(n))
	case n <= 0xFFFF:
		dst = append(dst, b0, maskBit|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, b0, maskBit|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return append(dst, key...)
}

// AppendFrame appends a whole frame: its header and payload, masked with
// key, a 4-byte masking key, or unmasked when key is nil.
func AppendFrame(dst []byte, fin bool, op byte, payload, key []byte) []byte {
	dst = AppendHeader(dst, fin, op, len(payload), key)
	start := len(dst)
	dst = append(dst, payload...)
	if key != nil {
		Mask(dst[start:], key)
	}
	return dst
}

// Mask masks p with key, a 4-byte masking key, in place, or unmasks it:
// the operation is its own inverse. p must start at the payload's first
// byte. It works eight bytes at a time: the load generator masks every
// frame it sends.
func Mask(p, key []byte) {
	k := uint64(binary.LittleEndian.Uint32(key))
	k |= k << 32
	for len(p) >= 8 {
		binary.LittleEndian.PutUint64(p, binary.LittleEndian.Uint64(p)^k)
		p = p[8:]
	}
	for i := range p {
		p[i] ^= key[i&3]
	}
}

// Frame is one frame read by ReadFrame.
type Frame struct {
	Fin     bool
	Op      byte // the opcode, without the RSV bits
	Masked  bool
	Payload []byte // unmasked
}

// maxReadPayload bounds the payload ReadFrame allocates for.
const maxReadPayload = 1 << 30

// ReadFrame reads one whole frame from r, a buffered reader for speed, and
// unmasks its payload. It is for tests and tools: it allocates each payload.
func ReadFrame(r io.Reader) (Frame, error) {
	var h [MaxHeaderLen]byte
	if _, err := io.ReadFull(r, h[:2]); err != nil {
		return Frame{}, err
	}
	hlen := HeaderLen(h[1])
	if _, err := io.ReadFull(r, h[2:hlen]); err != nil {
		return Frame{}, err
	}
	n := PayloadLen(h[:hlen])
	if n > maxReadPayload {
		return Frame{}, fmt.Errorf("wsframe: a frame of %d bytes is too large to read", n)
	}
	f := Frame{Fin: h[0]&0x80 != 0, Op: h[0] & 0x0F, Masked: h[1]&0x80 != 0, Payload: make([]byte, n)}
	if _, err := io.ReadFull(r, f.Payload); err != nil {
		return Frame{}, err
	}
	if f.Masked {
		Mask(f.Payload, h[hlen-4:hlen])
	}
	return f, nil
}
