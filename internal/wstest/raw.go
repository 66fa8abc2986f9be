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

	"github.com/heraldrt/herald/internal/wsframe"
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

// DialRawSubprotocol is DialRaw offering a subprotocol, for the binary
// encoding (protocol.SubprotocolProtobuf); it fails the test unless the
// server selects it.
func DialRawSubprotocol(t testing.TB, wsURL, subprotocol string) *Raw {
	t.Helper()
	u, err := url.Parse(wsURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c, resp := handshake(t, conn, wsURL, "Sec-WebSocket-Protocol: "+subprotocol+"\r\n")
	if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != subprotocol {
		t.Fatalf("offered %s, the server selected %q", subprotocol, got)
	}
	return c
}

// NewRaw performs the WebSocket handshake for wsURL on conn, a connection
// the caller dialed (a TLS one, say), and closes conn when the test ends.
func NewRaw(t testing.TB, conn net.Conn, wsURL string) *Raw {
	t.Helper()
	c, _ := handshake(t, conn, wsURL, "")
	return c
}

// handshake performs the WebSocket handshake for wsURL on conn with the
// extra header lines (each ending in CRLF), and closes conn when the test
// ends.
func handshake(t testing.TB, conn net.Conn, wsURL, extra string) (*Raw, *http.Response) {
	t.Helper()
	t.Cleanup(func() { _ = conn.Close() })
	u, err := url.Parse(wsURL)
	if err != nil {
		t.Fatal(err)
	}
	req := wsframe.UpgradeRequest(u, "dGhlIHNhbXBsZSBub25jZQ==")
	req = strings.TrimSuffix(req, "\r\n") + extra + "\r\n"
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
	return &Raw{Conn: conn, r: r}, resp
}

// WriteHeader writes a frame header for a payload of length n; opcode may
// carry RSV bits. A masked frame carries mask, its 4-byte key (nil: an
// unmasked frame), and the caller then writes the masked payload.
func (c *Raw) WriteHeader(opcode byte, fin bool, n int, mask []byte) error {
	_, err := c.Conn.Write(wsframe.AppendHeader(nil, fin, opcode, n, mask))
	return err
}

// WriteFrame writes one whole frame in one write, masked with a random key
// unless unmasked is set.
func (c *Raw) WriteFrame(opcode byte, payload []byte, unmasked bool) error {
	var mask []byte
	if !unmasked {
		mask = make([]byte, 4)
		_, _ = rand.Read(mask)
	}
	_, err := c.Conn.Write(wsframe.AppendFrame(nil, true, opcode, payload, mask))
	return err
}

// ReadFrame reads one server frame (servers never mask).
func (c *Raw) ReadFrame(timeout time.Duration) (opcode byte, payload []byte, err error) {
	_ = c.Conn.SetReadDeadline(time.Now().Add(timeout))
	f, err := wsframe.ReadFrame(c.r)
	return f.Op, f.Payload, err
}

// ReadClose reads frames until a close frame and returns its code.
func (c *Raw) ReadClose(timeout time.Duration) (int, error) {
	deadline := time.Now().Add(timeout)
	for {
		op, p, err := c.ReadFrame(time.Until(deadline))
		if err != nil {
			return 0, err
		}
		if op == wsframe.OpClose {
			if len(p) < 2 {
				return 1005, nil
			}
			return int(binary.BigEndian.Uint16(p)), nil
		}
	}
}

// SendText writes a masked text frame.
func (c *Raw) SendText(s string) error { return c.WriteFrame(wsframe.OpText, []byte(s), false) }

// Connect sends connect and waits for a reply frame.
func (c *Raw) Connect() error {
	if err := c.SendText(`{"id":1,"op":"connect"}`); err != nil {
		return err
	}
	op, p, err := c.ReadFrame(5 * time.Second)
	if err != nil {
		return err
	}
	if op != wsframe.OpText || !strings.Contains(string(p), `"result"`) {
		return fmt.Errorf("connect: unexpected frame %d %q", op, p)
	}
	return nil
}
