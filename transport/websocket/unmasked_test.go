package websocket

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/wsframe"
	"github.com/heraldrt/herald/internal/wstest"
)

// echoPeer writes every text message back, and flushes as WriteText's
// contract asks of a writer.
type echoPeer struct{ c *Conn }

func (p *echoPeer) HandleFrame(frame []byte, text bool) {
	_ = p.c.WriteText(frame)
	p.c.srv.FlushSends()
}
func (p *echoPeer) HandleClose(error) {}

func newEchoServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	SetLibraryLogger(nil)
	s, err := NewServer(cfg, func(*http.Request) (*Admission, int, string) {
		return &Admission{Bind: func(c *Conn) Peer { return &echoPeer{c: c} }}, 0, ""
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// echoDialer starts an echo server over plain HTTP, or over TLS (served by
// nbio's read loop rather than the poller), and returns a function that
// opens raw WebSocket connections to it.
func echoDialer(t *testing.T, tlsOn bool) func() *wstest.Raw {
	t.Helper()
	s := newEchoServer(t, Config{})
	var hs *httptest.Server
	if tlsOn {
		hs = httptest.NewTLSServer(s)
	} else {
		hs = httptest.NewServer(s)
	}
	t.Cleanup(hs.Close)
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/"
	return func() *wstest.Raw {
		if !tlsOn {
			return wstest.DialRaw(t, url)
		}
		conn, err := tls.Dial("tcp", hs.Listener.Addr().String(), &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		return wstest.NewRaw(t, conn, url)
	}
}

// expectEcho sends a masked text frame and requires it back.
func expectEcho(t *testing.T, c *wstest.Raw, msg string) {
	t.Helper()
	if err := c.SendText(msg); err != nil {
		t.Fatal(err)
	}
	op, p, err := c.ReadFrame(5 * time.Second)
	if err != nil || op != wsframe.OpText || string(p) != msg {
		t.Fatalf("echo: op %d %q %v, want %q", op, p, err, msg)
	}
}

// An unmasked client frame closes its connection with 1002 (RFC 6455
// section 5.1), on connections served by the poller and on TLS ones served
// by a read loop; a masked frame split into single bytes still gets
// through, and other connections are unaffected.
func TestUnmaskedClientFrameCloses1002(t *testing.T) {
	plainAndTLS(t, func(t *testing.T, tlsOn bool) {
		dial := echoDialer(t, tlsOn)

		bystander := dial()
		expectEcho(t, bystander, "before")

		c := dial()
		// A masked frame fed one byte per write: the guard must keep its
		// place across reads.
		frame := []byte(`{"split":true}`)
		whole := wsframe.AppendFrame(nil, true, wsframe.OpText, frame, []byte{9, 8, 7, 6})
		for _, b := range whole {
			if _, err := c.Conn.Write([]byte{b}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Millisecond)
		}
		if op, p, err := c.ReadFrame(5 * time.Second); err != nil || op != wsframe.OpText || string(p) != string(frame) {
			t.Fatalf("split masked frame: op %d %q %v", op, p, err)
		}

		if err := c.WriteFrame(wsframe.OpText, []byte("unmasked"), true); err != nil {
			t.Fatal(err)
		}
		code, err := c.ReadClose(5 * time.Second)
		if err != nil || code != 1002 {
			t.Fatalf("close code %d (%v), want 1002", code, err)
		}
		expectEcho(t, bystander, "after")
	})
}

// Frames that break RFC 6455 are answered with a 1002 close frame, not a
// silent drop, and the connection's neighbours carry on.
func TestProtocolErrorsClose1002(t *testing.T) {
	plainAndTLS(t, testProtocolErrorsClose1002)
}

// plainAndTLS runs test as two subtests: on a plain connection (served by
// the poller) and on a TLS one (served by a read loop).
func plainAndTLS(t *testing.T, test func(t *testing.T, tlsOn bool)) {
	for _, tlsOn := range []bool{false, true} {
		name := "plain"
		if tlsOn {
			name = "tls"
		}
		t.Run(name, func(t *testing.T) { test(t, tlsOn) })
	}
}

func testProtocolErrorsClose1002(t *testing.T, tlsOn bool) {
	dial := echoDialer(t, tlsOn)
	bystander := dial()
	key := []byte{1, 2, 3, 4}
	cases := map[string]func(c *wstest.Raw) error{
		"reserved opcode 0x3":        func(c *wstest.Raw) error { return c.WriteHeader(0x3, true, 0, key) },
		"reserved bit RSV2":          func(c *wstest.Raw) error { return c.WriteHeader(0x20|wsframe.OpText, true, 0, key) },
		"fragmented ping":            func(c *wstest.Raw) error { return c.WriteHeader(wsframe.OpPing, false, 0, key) },
		"continuation with no start": func(c *wstest.Raw) error { return c.WriteHeader(wsframe.OpContinuation, true, 0, key) },
	}
	for name, send := range cases {
		t.Run(name, func(t *testing.T) {
			c := dial()
			if err := send(c); err != nil {
				t.Fatal(err)
			}
			if code, err := c.ReadClose(5 * time.Second); err != nil || code != 1002 {
				t.Fatalf("close %d (%v), want 1002", code, err)
			}
			expectEcho(t, bystander, name)
		})
	}
}
