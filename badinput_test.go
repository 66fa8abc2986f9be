package herald_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/protobuf/encoding/protowire"

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

// pbFrame builds a binary frame of one Protobuf message made of raw fields
// (tag and value bytes), behind its length prefix.
func pbFrame(fields ...[]byte) []byte {
	var msg []byte
	for _, f := range fields {
		msg = append(msg, f...)
	}
	return protowire.AppendBytes(nil, msg)
}

func pbVarint(num protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(nil, num, protowire.VarintType), v)
}

func pbBytes(num protowire.Number, v string) []byte {
	return protowire.AppendString(protowire.AppendTag(nil, num, protowire.BytesType), v)
}

// TestBadBinaryInputClosesOnlyTheOffender is TestBadInputClosesOnlyTheOffender
// for the binary encoding: garbage, truncated input, wrong types and
// nesting close the offending connection with the documented
// code (docs/protocol.md, sections 2.7 and 3.4), after a disconnect push in
// its encoding, and a subscriber on the same node keeps receiving.
func TestBadBinaryInputClosesOnlyTheOffender(t *testing.T) {
	ts := startServer(t, herald.Config{})
	by := newBystander(t, ts)
	publish := protocol.AppendCommandProtobuf(nil, &protocol.Command{ID: 5, Op: "publish", Channel: "x", Data: []byte{1, 2}, Binary: true})
	// Field numbers of herald.proto's Command: id 1, op 2, channel 3.
	cases := []struct {
		name      string
		connect   bool
		text      bool
		frame     []byte
		wantClose int
	}{
		{"garbage", true, false, []byte{0xff, 0xff, 0xff, 0xff}, protocol.CloseBadRequest},
		{"a length prefix past the frame", true, false, publish[:len(publish)-3], protocol.CloseBadRequest},
		{"a field cut short inside its message", true, false, pbFrame(pbVarint(1, 5), pbBytes(2, "publish"), []byte{3<<3 | 2, 40, 'x'}), protocol.CloseBadRequest},
		{"JSON in a binary frame", true, false, []byte(`{"id":1,"op":"subscribe","channel":"x"}`), protocol.CloseBadRequest},
		{"an id of the wrong type", true, false, pbFrame(pbBytes(1, "1"), pbBytes(2, "publish")), protocol.CloseBadRequest},
		{"an op of the wrong type", true, false, pbFrame(pbVarint(1, 5), pbVarint(2, 7)), protocol.CloseBadRequest},
		{"missing id", true, false, pbFrame(pbBytes(2, "subscribe"), pbBytes(3, "x")), protocol.CloseBadRequest},
		{"missing op", true, false, pbFrame(pbVarint(1, 7)), protocol.CloseBadRequest},
		{"an empty message", true, false, []byte{0x00}, protocol.CloseBadRequest},
		{"a group, the only way to nest outside the schema", true, false, pbFrame(pbVarint(1, 5), pbBytes(2, "publish"), protowire.AppendTag(nil, 30, protowire.StartGroupType)), protocol.CloseBadRequest},
		{"groups nested 5,000 deep", true, false, pbFrame(pbVarint(1, 5), pbBytes(2, "publish"), bytes.Repeat(protowire.AppendTag(nil, 30, protowire.StartGroupType), 5000)), protocol.CloseBadRequest},
		{"command before connect", false, false, protocol.AppendCommandProtobuf(nil, &protocol.Command{ID: 1, Op: "subscribe", Channel: "x"}), protocol.CloseBadRequest},
		{"a text frame", true, true, []byte(`{"id":1,"op":"subscribe","channel":"x"}`), protocol.CloseUnsupported},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := wstest.DialEncoding(t, ts.url, protocol.Protobuf)
			if tc.connect {
				c.Connect()
			}
			var err error
			if tc.text {
				err = c.SendRaw(string(tc.frame))
			} else {
				err = c.SendBinary(tc.frame)
			}
			if err != nil {
				t.Fatal(err)
			}
			if code := c.ExpectClose(5 * time.Second); code != tc.wantClose {
				t.Fatalf("close code %d, want %d", code, tc.wantClose)
			}
			if tc.wantClose >= 3000 {
				msgs := c.Messages()
				if len(msgs) == 0 || msgs[len(msgs)-1].Op != "disconnect" || msgs[len(msgs)-1].Code != tc.wantClose {
					t.Fatalf("want a disconnect push with code %d before the close, got %+v", tc.wantClose, msgs)
				}
			}
			by.check()
		})
	}
}

// In the binary encoding as in JSON, a field of the wrong type in a command
// whose id and op decoded is answered with 107 and the connection stays;
// so are data that is not JSON without binary, and binary data on a
// command other than publish. What the schema does not know is skipped
// unread, however it is nested.
func TestBinaryFieldErrorsAreAnswered(t *testing.T) {
	ts := startServer(t, herald.Config{})
	ts.node.OnRPC("echo", func(_ context.Context, _ *herald.Session, d json.RawMessage) (any, error) { return d, nil })
	c := wstest.DialEncoding(t, ts.url, protocol.Protobuf)
	c.Connect()
	for _, tc := range []struct {
		name  string
		frame []byte
		code  int // 0: success
	}{
		{"channel as a varint", pbFrame(pbVarint(1, 11), pbBytes(2, "subscribe"), pbVarint(3, 1)), protocol.CodeBadRequest},
		{"a channel that is not UTF-8", pbFrame(pbVarint(1, 12), pbBytes(2, "subscribe"), pbBytes(3, "\xff")), protocol.CodeBadRequest},
		{"data that is not JSON", pbFrame(pbVarint(1, 13), pbBytes(2, "publish"), pbBytes(3, "x"), pbBytes(4, "{")), protocol.CodeBadRequest},
		{"binary data on rpc", pbFrame(pbVarint(1, 14), pbBytes(2, "rpc"), pbBytes(15, "echo"), pbBytes(4, "\x00"), pbVarint(5, 1)), protocol.CodeBadRequest},
		{"an unknown op", pbFrame(pbVarint(1, 15), pbBytes(2, "teleport")), protocol.CodeBadRequest},
		{"an unknown field holding deep nesting", pbFrame(pbVarint(1, 16), pbBytes(2, "publish"), pbBytes(3, "x"), pbBytes(4, `"ok"`),
			pbBytes(99, strings.Repeat("\x0a\x02", 2000))), 0},
		{"rpc with JSON data", pbFrame(pbVarint(1, 17), pbBytes(2, "rpc"), pbBytes(15, "echo"), pbBytes(4, `{"a":1}`)), 0},
	} {
		if err := c.SendBinary(tc.frame); err != nil {
			t.Fatal(err)
		}
		var id uint64 // each frame's first field
		_ = protocol.SplitProtobuf(tc.frame, func(m []byte) error {
			n, _, k := protowire.ConsumeTag(m)
			if n == 1 {
				id, _ = protowire.ConsumeVarint(m[k:])
			}
			return nil
		})
		r := c.WaitReply(id)
		switch {
		case tc.code == 0 && r.Error != nil:
			t.Errorf("%s: error %v", tc.name, r.Error)
		case tc.code != 0 && (r.Error == nil || r.Error.Code != tc.code):
			t.Errorf("%s: reply %+v, want error %d", tc.name, r, tc.code)
		}
	}
	if r := c.Call(map[string]any{"op": "subscribe", "channel": "still-open"}); r.Error != nil {
		t.Fatal(r.Error)
	}
}

// The message size limit holds for binary frames as for text ones: a
// binary session's frame that promises more is closed with 1009 from its
// header alone.
func TestOversizedBinaryMessageClosedBeforeBuffering(t *testing.T) {
	ts := startServer(t, herald.Config{})
	by := newBystander(t, ts)
	c := wstest.DialRawSubprotocol(t, ts.url, protocol.SubprotocolProtobuf)
	if err := c.WriteFrame(0x2, protocol.AppendCommandProtobuf(nil, &protocol.Command{ID: 1, Op: "connect"}), false); err != nil {
		t.Fatal(err)
	}
	if op, _, err := c.ReadFrame(5 * time.Second); err != nil || op != 0x2 {
		t.Fatalf("connect reply: opcode %d, %v; want a binary frame", op, err)
	}
	if err := c.WriteHeader(0x2, true, 4<<20, []byte{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Conn.Write(pbFrame(pbVarint(1, 2), pbBytes(2, "publish"))); err != nil {
		t.Fatal(err)
	}
	code, err := c.ReadClose(5 * time.Second)
	if err != nil || code != 1009 {
		t.Fatalf("close code %d (%v), want 1009", code, err)
	}
	by.check()
}
