package wstest

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Raw is a WebSocket connection driven byte by byte, for tests that must
// send what no WebSocket library would (a frame header promising more than
// it sends, an unmasked frame).
type Raw struct {
	Conn net.Conn
	r    *bufio.Reader
}

// DialRaw performs the WebSocket handshake on a plain TCP connection.
func DialRaw(t testing.TB, wsURL string) *Raw {
	t.Helper()
	u, err := url.Parse(wsURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return NewRaw(t, conn, wsURL)
}

// NewRaw performs the WebSocket handshake for wsURL on conn, a connection
// the caller dialed (a TLS one, say), and closes conn when the test ends.
func NewRaw(t testing.TB, conn net.Conn, wsURL string) *Raw {
	t.Helper()
	t.Cleanup(func() { _ = conn.Close() })
	u, err := url.Parse(wsURL)
	if err != nil {
		t.Fatal(err)
	}
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %s", resp.Status)
	}
	return &Raw{Conn: conn, r: r}
}

// WriteHeader writes a frame header for a payload of length n; masked frames
// carry a random key, and the caller then writes the (masked) payload with
// WritePayload.
func (c *Raw) WriteHeader(opcode byte, fin bool, n int, mask []byte) error {
	b := []byte{opcode, 0}
	if fin {
		b[0] |= 0x80
	}
	var maskBit byte
	if mask != nil {
		maskBit = 0x80
	}
	switch {
	case n < 126:
		b[1] = maskBit | byte(n)
	case n <= 65535:
		b[1] = maskBit | 126
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b[1] = maskBit | 127
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	b = append(b, mask...)
	_, err := c.Conn.Write(b)
	return err
}

// WriteFrame writes one whole frame, masked unless unmasked is set.
func (c *Raw) WriteFrame(opcode byte, payload []byte, unmasked bool) error {
	var mask []byte
	p := append([]byte(nil), payload...)
	if !unmasked {
		mask = make([]byte, 4)
		_, _ = rand.Read(mask)
		for i := range p {
			p[i] ^= mask[i%4]
		}
	}
	if err := c.WriteHeader(opcode, true, len(p), mask); err != nil {
		return err
	}
	_, err := c.Conn.Write(p)
	return err
}

// ReadFrame reads one server frame (servers never mask).
func (c *Raw) ReadFrame(timeout time.Duration) (opcode byte, payload []byte, err error) {
	_ = c.Conn.SetReadDeadline(time.Now().Add(timeout))
	var h [2]byte
	if _, err = io.ReadFull(c.r, h[:]); err != nil {
		return 0, nil, err
	}
	n := int(h[1] & 0x7f)
	switch n {
	case 126:
		var l [2]byte
		if _, err = io.ReadFull(c.r, l[:]); err != nil {
			return 0, nil, err
		}
		n = int(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		if _, err = io.ReadFull(c.r, l[:]); err != nil {
			return 0, nil, err
		}
		n = int(binary.BigEndian.Uint64(l[:]))
	}
	payload = make([]byte, n)
	_, err = io.ReadFull(c.r, payload)
	return h[0] & 0x0f, payload, err
}

// ReadClose reads frames until a close frame and returns its code.
func (c *Raw) ReadClose(timeout time.Duration) (int, error) {
	deadline := time.Now().Add(timeout)
	for {
		op, p, err := c.ReadFrame(time.Until(deadline))
		if err != nil {
			return 0, err
		}
		if op == 0x8 {
			if len(p) < 2 {
				return 1005, nil
			}
			return int(binary.BigEndian.Uint16(p)), nil
		}
	}
}

// SendText writes a masked text frame.
func (c *Raw) SendText(s string) error { return c.WriteFrame(0x1, []byte(s), false) }

// Connect sends connect and waits for a reply frame.
func (c *Raw) Connect() error {
	if err := c.SendText(`{"id":1,"op":"connect"}`); err != nil {
		return err
	}
	op, p, err := c.ReadFrame(5 * time.Second)
	if err != nil {
		return err
	}
	if op != 0x1 || !strings.Contains(string(p), `"result"`) {
		return fmt.Errorf("connect: unexpected frame %d %q", op, p)
	}
	return nil
}
