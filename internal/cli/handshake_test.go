package cli

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A 64 KB header is refused (431) by the server's header size limit, and a
// slowloris handshake (a byte every few hundred milliseconds) is cut off at
// --handshake-timeout; a normal client connects meanwhile.
func TestHandshakeAbuse(t *testing.T) {
	r := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--handshake-timeout=1s")

	conn, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	big := "GET /ws HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 64<<10) + "\r\n\r\n"
	_, _ = conn.Write([]byte(big))
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("64 KB header: %v %v", resp, err)
	}

	slow, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	start := time.Now()
	closed := make(chan time.Duration, 1)
	go func() {
		_, _ = io.Copy(io.Discard, slow) // returns when the server hangs up
		closed <- time.Since(start)
	}()
	req := "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
	for i := 0; i < len(req); i++ {
		if _, err := slow.Write([]byte{req[i]}); err != nil {
			break // the server hung up
		}
		select {
		case d := <-closed:
			if d > 5*time.Second {
				t.Fatalf("cut off after %v", d)
			}
			return
		case <-time.After(300 * time.Millisecond):
		}
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("a slowloris handshake was never cut off")
	}
}
