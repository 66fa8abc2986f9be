package herald_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/protocol"
)

// bystander is a well-behaved subscriber that must keep receiving while other
// clients misbehave.
type bystander struct {
	t    *testing.T
	ts   *testServer
	c    *wstest.Client
	seq  int
	name string
}

func newBystander(t *testing.T, ts *testServer) *bystander {
	b := &bystander{t: t, ts: ts, c: ts.dial(t), name: "bystander"}
	if r := b.c.Call(map[string]any{"op": "subscribe", "channel": "watch"}); r.Error != nil {
		t.Fatal(r.Error)
	}
	return b
}

// check publishes one message and requires the bystander to get it.
func (b *bystander) check() {
	b.t.Helper()
	b.seq++
	data := json.RawMessage(`{"seq":` + itoa(b.seq) + `}`)
	if _, err := b.ts.node.Publish(context.Background(), "watch", data); err != nil {
		b.t.Fatal(err)
	}
	m, err := b.c.NextPush("pub", 5*time.Second)
	if err != nil {
		b.t.Fatalf("bystander stopped receiving: %v", err)
	}
	if string(m.Data) != string(data) {
		b.t.Fatalf("bystander got %s, want %s", m.Data, data)
	}
}

func TestBadInputClosesOnlyTheOffender(t *testing.T) {
	ts := startServer(t, herald.Config{})
	by := newBystander(t, ts)

	cases := []struct {
		name      string
		connect   bool
		frame     func() string
		wantClose int
	}{
		{"malformed JSON", true, func() string { return `{"id":1,"op":"subscribe",` }, protocol.CloseBadRequest},
		{"not an object", true, func() string { return `[1,2,3]` }, protocol.CloseBadRequest},
		{"missing id", true, func() string { return `{"op":"subscribe","channel":"x"}` }, protocol.CloseBadRequest},
		{"missing op", true, func() string { return `{"id":7}` }, protocol.CloseBadRequest},
		{"deeply nested JSON", true, func() string {
			return `{"id":1,"op":"publish","channel":"x","data":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`
		}, protocol.CloseBadRequest},
		{"command before connect", false, func() string { return `{"id":1,"op":"subscribe","channel":"x"}` }, protocol.CloseBadRequest},
		{"connect with bad JSON", false, func() string { return `{"id":1,"op":"connect"` }, protocol.CloseBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := wstest.Dial(t, ts.url)
			if tc.connect {
				c.Connect()
			}
			if err := c.SendRaw(tc.frame()); err != nil {
				t.Fatal(err)
			}
			if code := c.ExpectClose(5 * time.Second); code != tc.wantClose {
				t.Fatalf("close code %d, want %d", code, tc.wantClose)
			}
			if tc.wantClose >= 3000 {
				// The disconnect push precedes the close frame.
				msgs := c.Messages()
				if len(msgs) == 0 || msgs[len(msgs)-1].Op != "disconnect" || msgs[len(msgs)-1].Code != tc.wantClose {
					t.Fatalf("want a disconnect push with code %d before the close, got %+v", tc.wantClose, msgs)
				}
				if msgs[len(msgs)-1].Reconnect != protocol.ShouldReconnect(tc.wantClose) {
					t.Fatalf("reconnect flag %v for code %d", msgs[len(msgs)-1].Reconnect, tc.wantClose)
				}
			}
			by.check()
		})
	}
}

// A message larger than the limit is refused from its frame header alone:
// the client has sent only a few bytes of the promised 4 MiB when the close
// frame arrives.
func TestOversizedMessageClosedBeforeBuffering(t *testing.T) {
	ts := startServer(t, herald.Config{})
	by := newBystander(t, ts)
	c := wstest.DialRaw(t, ts.url)
	if err := c.Connect(); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteHeader(0x1, true, 4<<20, []byte{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Conn.Write([]byte(`{"id":2,"op":"publish"`)); err != nil {
		t.Fatal(err)
	}
	code, err := c.ReadClose(5 * time.Second)
	if err != nil || code != 1009 {
		t.Fatalf("close code %d (%v), want 1009", code, err)
	}
	by.check()
}

func TestBinaryFrameIsUnsupported(t *testing.T) {
	ts := startServer(t, herald.Config{})
	by := newBystander(t, ts)
	c := wstest.Dial(t, ts.url)
	c.Connect()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := c.Conn.Write(ctx, websocket.MessageBinary, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if code := c.ExpectClose(5 * time.Second); code != protocol.CloseUnsupported {
		t.Fatalf("close code %d, want %d", code, protocol.CloseUnsupported)
	}
	by.check()
}

func TestUnknownOpIsAnsweredNotFatal(t *testing.T) {
	ts := startServer(t, herald.Config{})
	c := ts.dial(t)
	r := c.Call(map[string]any{"op": "teleport", "channel": "x"})
	if r.Error == nil || r.Error.Code != protocol.CodeBadRequest {
		t.Fatalf("want error 107, got %+v", r)
	}
	if !strings.Contains(r.Error.Message, "teleport") {
		t.Fatalf("error message should name the op: %q", r.Error.Message)
	}
	// The connection still works.
	if r := c.Call(map[string]any{"op": "subscribe", "channel": "x"}); r.Error != nil {
		t.Fatal(r.Error)
	}
}

func TestBatchedCommandsInOneFrame(t *testing.T) {
	ts := startServer(t, herald.Config{})
	c := wstest.Dial(t, ts.url)
	frame := `{"id":1,"op":"connect"}` + "\n" + `{"id":2,"op":"subscribe","channel":"b"}` + "\n" +
		`{"id":3,"op":"publish","channel":"b","data":{"x":1}}`
	if err := c.SendRaw(frame); err != nil {
		t.Fatal(err)
	}
	for id := uint64(1); id <= 3; id++ {
		if r := c.WaitReply(id); r.Error != nil {
			t.Fatalf("reply %d: %v", id, r.Error)
		}
	}
	if m, err := c.NextPush("pub", 5*time.Second); err != nil || string(m.Data) != `{"x":1}` {
		t.Fatalf("pub %+v %v", m, err)
	}
}

func TestInvalidUTF8Closes1007(t *testing.T) {
	ts := startServer(t, herald.Config{})
	by := newBystander(t, ts)
	c := wstest.DialRaw(t, ts.url)
	if err := c.Connect(); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteFrame(0x1, []byte("{\"id\":2,\"op\":\"publish\",\"channel\":\"x\",\"data\":\"\xff\xfe\"}"), false); err != nil {
		t.Fatal(err)
	}
	code, err := c.ReadClose(5 * time.Second)
	if err != nil || code != 1007 {
		t.Fatalf("close code %d (%v), want 1007", code, err)
	}
	by.check()
}

// RFC 6455 section 5.1: a client frame without a mask closes the
// connection with 1002; the server and its other clients carry on.
func TestUnmaskedFrameCloses1002(t *testing.T) {
	ts := startServer(t, herald.Config{})
	by := newBystander(t, ts)
	c := wstest.DialRaw(t, ts.url)
	if err := c.Connect(); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteFrame(0x1, []byte(`{"id":2,"op":"subscribe","channel":"x"}`), true); err != nil {
		t.Fatal(err)
	}
	code, err := c.ReadClose(5 * time.Second)
	if err != nil || code != 1002 {
		t.Fatalf("close code %d (%v), want 1002", code, err)
	}
	by.check()
}

func TestHandshakeHeaderLimits(t *testing.T) {
	ts := startServer(t, herald.Config{})
	send := func(extra string) int {
		t.Helper()
		conn, err := net.Dial("tcp", strings.TrimPrefix(ts.http.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		req := "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" + extra + "\r\n"
		if _, err := conn.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode
	}
	var many strings.Builder
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&many, "X-H-%d: v\r\n", i)
	}
	if code := send(many.String()); code != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("2,000 headers: %d", code)
	}
	if code := send(""); code != http.StatusSwitchingProtocols {
		t.Fatalf("a plain handshake: %d", code)
	}
}
