package bench

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/wsframe"
)

// serverFrame encodes an unmasked server frame.
func serverFrame(fin bool, op byte, p []byte) []byte {
	return wsframe.AppendFrame(nil, fin, op, p, nil)
}

// readClientFrame reads one masked client frame.
func readClientFrame(r *bufio.Reader) (byte, []byte, error) {
	f, err := wsframe.ReadFrame(r)
	if err != nil {
		return 0, nil, err
	}
	if !f.Masked {
		return 0, nil, errors.New("client frame not masked")
	}
	return f.Op, f.Payload, nil
}

// acceptUpgrade accepts one connection on ln and reads its upgrade
// request; it returns the connection, its reader and the 101 response to
// write, or a nil connection when that failed.
func acceptUpgrade(ln net.Listener) (net.Conn, *bufio.Reader, string) {
	conn, err := ln.Accept()
	if err != nil {
		return nil, nil, ""
	}
	br := bufio.NewReader(conn)
	req, err := http.ReadRequest(br)
	if err != nil {
		conn.Close()
		return nil, nil, ""
	}
	return conn, br, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		wsframe.AcceptKey(req.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n"
}

// dialScripted starts a hand-written server on a loopback port that
// accepts one connection and runs script on it (script writes the 101
// response, accept, itself), and returns the client connected to it. The
// caller waits for script to end.
func dialScripted(t *testing.T, script func(conn net.Conn, br *bufio.Reader, accept string)) *wsConn {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		conn, br, accept := acceptUpgrade(ln)
		if conn == nil {
			return
		}
		defer conn.Close()
		script(conn, br, accept)
	}()
	u, _ := url.Parse("ws://" + ln.Addr().String() + "/ws")
	c, err := dialWS(&net.Dialer{}, u, "", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.closeNow)
	return c
}

// TestWSConnFrames runs the client against a hand-written server that
// sends frames of every size class, fragments, control frames and
// several frames in one write, over real TCP.
func TestWSConnFrames(t *testing.T) {
	big := bytes.Repeat([]byte("b"), 70<<10) // past the 64 KiB pool size
	mid := bytes.Repeat([]byte("m"), 5000)   // past the 1 KiB buffer
	got := make(chan string, 4)              // what the server received
	c := dialScripted(t, func(conn net.Conn, br *bufio.Reader, accept string) {
		out := []byte(accept)
		out = append(out, serverFrame(true, wsframe.OpText, []byte("first"))...) // in the same write as the handshake
		out = append(out, serverFrame(true, wsframe.OpPing, []byte("pi"))...)
		out = append(out, serverFrame(true, wsframe.OpText, mid)...)
		_, _ = conn.Write(out)
		op, p, err := readClientFrame(br)
		got <- string([]byte{'0' + op}) + ":" + string(p)
		_, _ = conn.Write(serverFrame(true, wsframe.OpText, big))
		_, _ = conn.Write(serverFrame(false, wsframe.OpText, []byte("frag1-")))
		_, _ = conn.Write(serverFrame(true, wsframe.OpPing, nil))
		_, _ = conn.Write(serverFrame(false, wsframe.OpContinuation, []byte("frag2-")))
		_, _ = conn.Write(serverFrame(true, wsframe.OpContinuation, []byte("frag3")))
		_, _ = conn.Write(serverFrame(true, 0x2, []byte("binary")))
		// Split one frame across writes.
		f := serverFrame(true, wsframe.OpText, []byte("split"))
		_, _ = conn.Write(f[:1])
		time.Sleep(20 * time.Millisecond)
		_, _ = conn.Write(f[1:])
		_, _ = conn.Write(serverFrame(true, wsframe.OpClose, binary.BigEndian.AppendUint16(nil, 3002)))
		op, _, _ = readClientFrame(br) // pong to the empty ping
		op2, p2, err := readClientFrame(br)
		_ = err
		got <- string([]byte{'0' + op}) + "," + string([]byte{'0' + op2}) + ":" + string(p2[:min(len(p2), 2)])
	})
	var msgs []string
	err := c.serve(func(m []byte) { msgs = append(msgs, string(m)) })
	var ce *closeError
	if !errors.As(err, &ce) || ce.code != 3002 {
		t.Fatalf("serve ended with %v, want close 3002", err)
	}
	want := []string{"first", string(mid), string(big), "frag1-frag2-frag3", "binary", "split"}
	if len(msgs) != len(want) {
		t.Fatalf("got %d messages, want %d", len(msgs), len(want))
	}
	for i := range want {
		if msgs[i] != want[i] {
			t.Errorf("message %d: got %d bytes %.20q, want %d bytes %.20q", i, len(msgs[i]), msgs[i], len(want[i]), want[i])
		}
	}
	if g := <-got; g != string([]byte{'0' + wsframe.OpPong})+":pi" {
		t.Errorf("answer to ping: %q", g)
	}
	if g := <-got; !strings.HasPrefix(g, string([]byte{'0' + wsframe.OpPong, ',', '0' + wsframe.OpClose})) {
		t.Errorf("answers to empty ping and close: %q", g)
	}
}

// A client that closes first sends one close frame: the server's close
// frame is the answer to it, not a new close to answer again (RFC 6455
// section 5.5.1). The extra frame cost both sides a write and a read
// per connection in the churn scenario.
func TestWSConnClosesGracefullyWithOneCloseFrame(t *testing.T) {
	frames := make(chan []byte, 4) // the opcodes the client sent after the handshake
	c := dialScripted(t, func(conn net.Conn, br *bufio.Reader, accept string) {
		_, _ = conn.Write([]byte(accept))
		var ops []byte
		op, _, err := readClientFrame(br) // the client's close
		if err == nil {
			ops = append(ops, op)
			_, _ = conn.Write(serverFrame(true, wsframe.OpClose, binary.BigEndian.AppendUint16(nil, 1000)))
			for {
				op, _, err := readClientFrame(br)
				if err != nil {
					break // the client closed the connection
				}
				ops = append(ops, op)
			}
		}
		frames <- ops
	})
	c.closeGracefully(5 * time.Second)
	if ops := <-frames; !bytes.Equal(ops, []byte{wsframe.OpClose}) {
		t.Fatalf("the client sent opcodes %v after the handshake, want one close (%d)", ops, wsframe.OpClose)
	}
}
