package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/protocol"
)

// fakeServer is a scripted protocol v1 server: each test reads the client's
// commands and writes exactly the frames it wants, to exercise what the
// Herald server does not do yet (recovery) or only does under load
// (batched frames, duplicates, silence).
type fakeServer struct {
	t     *testing.T
	url   string
	conns chan *fakeConn

	mu     sync.Mutex
	all    []*fakeConn
	closed bool
}

type fakeConn struct {
	t     *testing.T
	ws    *websocket.Conn
	enc   protocol.Encoding // what the handshake chose
	queue []protocol.Command
	// offered is the client's Sec-WebSocket-Protocol header.
	offered string
}

// startFake starts a fake that selects no subprotocol, as a server older
// than the binary encoding does: it speaks JSON.
func startFake(t *testing.T) *fakeServer { return startFakeSpeaking(t, "") }

// startFakeSpeaking starts a fake that selects subprotocol when the client
// offers it, and then speaks its encoding.
func startFakeSpeaking(t *testing.T, subprotocol string) *fakeServer {
	fs := &fakeServer{t: t, conns: make(chan *fakeConn, 8)}
	var accept websocket.AcceptOptions
	if subprotocol != "" {
		accept.Subprotocols = []string{subprotocol}
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, &accept)
		if err != nil {
			return
		}
		fc := &fakeConn{t: t, ws: ws, enc: protocol.EncodingOf(ws.Subprotocol()), offered: r.Header.Get("Sec-WebSocket-Protocol")}
		fs.mu.Lock()
		defer fs.mu.Unlock()
		if fs.closed {
			_ = ws.CloseNow()
			return
		}
		select {
		case fs.conns <- fc:
			fs.all = append(fs.all, fc)
		default:
			_ = ws.CloseNow()
		}
	}))
	t.Cleanup(func() {
		fs.shutdown()
		hs.Close()
	})
	fs.url = wstest.WSURL(hs.URL, "/ws")
	return fs
}

// shutdown drops every connection and refuses new ones.
func (fs *fakeServer) shutdown() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.closed = true
	for _, fc := range fs.all {
		_ = fc.ws.CloseNow()
	}
}

// accept waits for the client's next connection.
func (fs *fakeServer) accept() *fakeConn {
	fs.t.Helper()
	return receive(fs.t, fs.conns, "connection")
}

// next returns the client's next command.
func (fc *fakeConn) next() protocol.Command {
	fc.t.Helper()
	for len(fc.queue) == 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_, frame, err := fc.ws.Read(ctx)
		cancel()
		if err != nil {
			fc.t.Fatalf("fake server: read: %v", err)
		}
		_ = fc.enc.SplitMessages(frame, func(msg []byte) error {
			var cmd protocol.Command
			// JSON commands decode as the wire has them (a binary
			// publish's data stays base64); Protobuf ones as the server
			// decodes them.
			err := json.Unmarshal(msg, &cmd)
			if fc.enc == protocol.Protobuf {
				err = protocol.DecodeCommandProtobuf(msg, &cmd)
			}
			if err != nil {
				fc.t.Fatalf("fake server: bad command %q: %v", msg, err)
			}
			fc.queue = append(fc.queue, cmd)
			return nil
		})
	}
	cmd := fc.queue[0]
	fc.queue = fc.queue[1:]
	return cmd
}

// expect returns the next command, failing unless it has op.
func (fc *fakeConn) expect(op string) protocol.Command {
	fc.t.Helper()
	cmd := fc.next()
	if cmd.Op != op {
		fc.t.Fatalf("fake server: got %+v, want op %q", cmd, op)
	}
	return cmd
}

// send writes the messages in one frame, newline-separated.
func (fc *fakeConn) send(msgs ...string) {
	fc.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := fc.ws.Write(ctx, websocket.MessageText, []byte(strings.Join(msgs, "\n"))); err != nil {
		fc.t.Fatalf("fake server: write: %v", err)
	}
}

func (fc *fakeConn) reply(id uint64, result string) {
	fc.t.Helper()
	fc.send(`{"id":` + itoa(id) + `,"result":` + result + `}`)
}

// sendFrame writes one frame of typ as it is.
func (fc *fakeConn) sendFrame(typ websocket.MessageType, frame []byte) {
	fc.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := fc.ws.Write(ctx, typ, frame); err != nil {
		fc.t.Fatalf("fake server: write: %v", err)
	}
}

// handshake answers the client's connect, in the connection's encoding.
func (fc *fakeConn) handshake(ping int) {
	fc.t.Helper()
	cmd := fc.expect(protocol.OpConnect)
	if cmd.Name != SDKName || cmd.Version != SDKVersion {
		fc.t.Fatalf("connect without the SDK's name: %+v", cmd)
	}
	if fc.enc == protocol.Protobuf {
		msg, err := protocol.EncodeReplyProtobuf(&protocol.Reply{ID: cmd.ID, Result: &protocol.ConnectResult{Client: "c1", Node: "fake", Ping: ping}})
		if err != nil {
			fc.t.Fatal(err)
		}
		fc.sendFrame(websocket.MessageBinary, msg)
		return
	}
	fc.reply(cmd.ID, `{"client":"c1","node":"fake","ping":`+itoa(uint64(ping))+`}`)
}

// disconnect sends the disconnect push and a close frame with code.
func (fc *fakeConn) disconnect(code int) {
	fc.send(string(protocol.DisconnectPush(code, "")))
	_ = fc.ws.Close(websocket.StatusCode(code), "")
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

func pubMsg(channel string, offset int) string {
	return `{"op":"pub","channel":"` + channel + `","offset":` + itoa(uint64(offset)) + `,"data":` + itoa(uint64(offset)) + `}`
}

func offsets(t *testing.T, s *subRecorder, n int) []uint64 {
	t.Helper()
	var out []uint64
	for i := 0; i < n; i++ {
		out = append(out, s.nextPub(t).Offset)
	}
	return out
}

func TestRecoveryDedupeAndBatchedFrames(t *testing.T) {
	fs := startFake(t)
	defer fs.shutdown()
	ctx := testCtx(t)
	serverPubs := make(chan Publication, 4)
	msgs := make(chan string, 4)
	c := newClient(t, fs.url, Options{
		OnPublication: func(p Publication) { serverPubs <- p },
		OnMessage:     func(d json.RawMessage) { msgs <- string(d) },
	})
	connected := make(chan error, 1)
	go func() { connected <- c.Connect(ctx) }()
	fc := fs.accept()
	fc.handshake(25)
	if err := receive(t, connected, "Connect"); err != nil {
		t.Fatal(err)
	}

	s := newSubRecorder()
	subscribed := make(chan error, 1)
	go func() { _, err := c.Subscribe(ctx, "ch", s.handlers()); subscribed <- err }()
	cmd := fc.expect(protocol.OpSubscribe)
	if cmd.Channel != "ch" || cmd.Recover || cmd.Offset != 0 || cmd.Epoch != "" {
		t.Fatalf("first subscribe = %+v", cmd)
	}
	fc.reply(cmd.ID, `{"offset":5,"epoch":"e1","recoverable":true}`)
	if err := receive(t, subscribed, "Subscribe"); err != nil {
		t.Fatal(err)
	}

	// One frame, several messages: duplicates and an old offset are
	// dropped, the ping is answered, the other pushes are routed.
	fc.send(pubMsg("ch", 6), pubMsg("ch", 6), pubMsg("ch", 5), `{"op":"ping"}`, pubMsg("ch", 7),
		pubMsg("server-side", 1), `{"op":"message","data":"hi"}`)
	fc.expect(protocol.OpPong)
	if got := offsets(t, s, 2); got[0] != 6 || got[1] != 7 {
		t.Fatalf("offsets = %v, want [6 7]", got)
	}
	noneWithin(t, s.pubs, 30*time.Millisecond, "duplicate publication")
	if p := receive(t, serverPubs, "server-side publication"); p.Channel != "server-side" {
		t.Fatalf("server-side publication = %+v", p)
	}
	if m := receive(t, msgs, "message"); m != `"hi"` {
		t.Fatalf("message = %s", m)
	}

	// Reconnect: the client asks to recover from offset 7 of epoch e1. A
	// temporary refusal is retried.
	fc.disconnect(protocol.CloseShutdown)
	fc = fs.accept()
	fc.handshake(25)
	cmd = fc.expect(protocol.OpSubscribe)
	if !cmd.Recover || cmd.Offset != 7 || cmd.Epoch != "e1" {
		t.Fatalf("resubscribe = %+v", cmd)
	}
	fc.send(`{"id":` + itoa(cmd.ID) + `,"error":{"code":100,"message":"internal"}}`)
	cmd = fc.expect(protocol.OpSubscribe)
	if !cmd.Recover || cmd.Offset != 7 {
		t.Fatalf("retried resubscribe = %+v", cmd)
	}
	fc.reply(cmd.ID, `{"offset":8,"epoch":"e1","recoverable":true,"recovered":true,"publications":[`+
		`{"offset":7,"data":7},{"offset":8,"data":8}]}`)
	s.nextSubscribed(t)
	if ev := s.nextSubscribed(t); !ev.Resubscribed || !ev.Recovering || !ev.Recovered || ev.Offset != 8 {
		t.Fatalf("resubscribed event = %+v", ev)
	}
	fc.send(pubMsg("ch", 8), pubMsg("ch", 9))
	if got := offsets(t, s, 2); got[0] != 8 || got[1] != 9 {
		t.Fatalf("offsets after recovery = %v, want [8 9]", got)
	}
	noneWithin(t, s.pubs, 30*time.Millisecond, "duplicate publication")

	// A new epoch: not recovered, and offsets start again.
	fc.disconnect(protocol.CloseForceReconnect)
	fc = fs.accept()
	fc.handshake(25)
	cmd = fc.expect(protocol.OpSubscribe)
	fc.reply(cmd.ID, `{"offset":2,"epoch":"e2","recoverable":true}`)
	if ev := s.nextSubscribed(t); !ev.Resubscribed || ev.Recovered || ev.Epoch != "e2" {
		t.Fatalf("event after an epoch change = %+v", ev)
	}
	fc.send(pubMsg("ch", 3))
	if p := s.nextPub(t); p.Offset != 3 {
		t.Fatalf("offset in the new epoch = %d", p.Offset)
	}

	// The server ends the subscription.
	fc.send(`{"op":"unsub","channel":"ch","code":3503,"reason":"kicked"}`)
	if ev := receive(t, s.unsub, "unsubscribed event"); ev.Code != 3503 || ev.Reason != "kicked" {
		t.Fatalf("unsubscribed event = %+v", ev)
	}
	if len(c.Subscriptions()) != 0 {
		t.Fatal("the subscription outlived the server's unsub")
	}
}

func TestSilenceBoundFollowsPingInterval(t *testing.T) {
	fs := startFake(t)
	defer fs.shutdown()
	rec := newRecorder()
	c := newClient(t, fs.url, rec.options(Options{PingGrace: 100 * time.Millisecond}))
	connected := make(chan error, 1)
	go func() { connected <- c.Connect(testCtx(t)) }()
	fc := fs.accept()
	fc.handshake(1) // "I ping every second", and then never does
	if err := receive(t, connected, "Connect"); err != nil {
		t.Fatal(err)
	}
	fc2 := fs.accept() // the client gave up on the silent connection
	fc2.handshake(25)
	rec.waitFor(t, "the reconnect", func() bool { return len(rec.connected) == 2 })
	if ev := read(rec, func() ConnectingEvent { return rec.connecting[1] }); !strings.Contains(ev.Reason, "no message from the server in 1.1s") {
		t.Fatalf("connecting event = %+v", ev)
	}
}
