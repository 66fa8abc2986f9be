package cli

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A 64 KB header is refused (431) by the server's header size limit, so
// are 200 header fields (the transport's limit is 100), and a
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

	// 200 small header fields: past the 100 an upgrade may have.
	many, err := http.NewRequest("GET", "http://"+r.addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="} {
		k, v, _ := strings.Cut(h, ": ")
		many.Header.Set(k, v)
	}
	for i := range 200 {
		many.Header.Set("X-Field-"+strconv.Itoa(i), "v")
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	if resp, err := tr.RoundTrip(many); err != nil || resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("200 header fields: %v %v", resp, err)
	} else {
		resp.Body.Close()
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
