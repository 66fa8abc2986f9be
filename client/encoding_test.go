package client

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/heraldrt/herald/protocol"
)

// unhex decodes the spec's hexadecimal dumps, spaces allowed.
func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decodeCommands decodes a frame of commands as the server does.
func decodeCommands(t *testing.T, enc protocol.Encoding, frame []byte) []protocol.Command {
	t.Helper()
	var out []protocol.Command
	err := enc.SplitMessages(frame, func(msg []byte) error {
		var cmd protocol.Command
		if err := enc.DecodeCommand(msg, &cmd); err != nil {
			return err
		}
		out = append(out, cmd)
		return nil
	})
	if err != nil {
		t.Fatalf("the server's %v decoder refused %q: %v", enc, frame, err)
	}
	return out
}

// A binary publish is encoded as docs/protocol.md section 2.7 shows it,
// byte for byte, in both encodings.
func TestBinaryPublishMatchesTheSpec(t *testing.T) {
	cmd := &protocol.Command{ID: 2, Op: protocol.OpPublish, Channel: "chat", Data: []byte{0xca, 0xfe}, Binary: true}
	got, err := encodeCommand(protocol.JSON, cmd)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"id":2,"op":"publish","channel":"chat","data":"yv4=","binary":true}`; string(got) != want {
		t.Errorf("JSON:\n got %s\nwant %s", got, want)
	}
	got, err = encodeCommand(protocol.Protobuf, cmd)
	if err != nil {
		t.Fatal(err)
	}
	if want := unhex(t, "17 08 02 12 07 70 75 62 6c 69 73 68 1a 04 63 68 61 74 22 02 ca fe 28 01"); !bytes.Equal(got, want) {
		t.Errorf("Protobuf:\n got % x\nwant % x", got, want)
	}
}

// Whatever the bytes (not UTF-8, JSON-looking, none at all), the server's
// decoder of either encoding gets the same bytes back, flagged binary, and
// the command is left as it was, to be encoded again for another
// connection.
func TestBinaryPublishRoundTrips(t *testing.T) {
	payloads := [][]byte{{0x00, 0xff, 0xfe, '\n', '"', '\\'}, []byte(`{"looks":"like JSON"}`), {}}
	for _, enc := range []protocol.Encoding{protocol.JSON, protocol.Protobuf} {
		for _, data := range payloads {
			cmd := &protocol.Command{ID: 9, Op: protocol.OpPublish, Channel: "files", Data: bytes.Clone(data), Binary: true, Key: "k1"}
			msg, err := encodeCommand(enc, cmd)
			if err != nil {
				t.Fatal(err)
			}
			got := decodeCommands(t, enc, msg)
			if len(got) != 1 || !got[0].Binary || !bytes.Equal(got[0].Data, data) || got[0].Key != "k1" || got[0].Channel != "files" {
				t.Fatalf("%v: %q decoded as %+v", enc, data, got)
			}
			if !cmd.Binary || !bytes.Equal(cmd.Data, data) {
				t.Fatalf("%v: encoding changed the command to %+v", enc, cmd)
			}
		}
	}
}

// The client's messages join into frames its encoding's server splits
// again: newline-separated JSON, length-prefixed Protobuf.
func TestCommandsBatchInEitherEncoding(t *testing.T) {
	cmds := []*protocol.Command{
		{ID: 1, Op: protocol.OpPublish, Channel: "a", Data: []byte(`{"n":1}`)},
		{ID: 2, Op: protocol.OpPublish, Channel: "b", Data: []byte{1, 2, 3}, Binary: true},
		{Op: protocol.OpSend, Data: []byte(`"hi"`)},
		{Op: protocol.OpPong},
	}
	for _, enc := range []protocol.Encoding{protocol.JSON, protocol.Protobuf} {
		var msgs [][]byte
		for _, cmd := range cmds {
			msg, err := encodeCommand(enc, cmd)
			if err != nil {
				t.Fatal(err)
			}
			msgs = append(msgs, msg)
		}
		frame, n := enc.AppendJoined(nil, msgs, maxBatch)
		got := decodeCommands(t, enc, frame)
		if n != len(cmds) || len(got) != len(cmds) {
			t.Fatalf("%v: %d of %d commands joined, %d decoded", enc, n, len(cmds), len(got))
		}
		for i, cmd := range cmds {
			if got[i].Op != cmd.Op || got[i].ID != cmd.ID || got[i].Binary != cmd.Binary || !bytes.Equal(got[i].Data, cmd.Data) {
				t.Errorf("%v: command %d decoded as %+v, want %+v", enc, i, got[i], cmd)
			}
		}
	}
}

// The server's `pub` push of a binary publication (the spec's bytes) and
// its JSON form both decode to the raw bytes with Binary set; a JSON
// publication on the binary encoding decodes to its JSON text.
func TestDecodeBinaryPublicationPush(t *testing.T) {
	for _, tc := range []struct {
		enc    protocol.Encoding
		frame  []byte
		binary bool
		data   []byte
	}{
		{protocol.Protobuf, unhex(t, "17 12 03 70 75 62 1a 04 63 68 61 74 20 01 2a 02 61 62 32 02 ca fe 38 01"), true, []byte{0xca, 0xfe}},
		{protocol.JSON, []byte(`{"op":"pub","channel":"chat","offset":1,"epoch":"ab","data":"yv4=","binary":true}`), true, []byte{0xca, 0xfe}},
		{protocol.Protobuf, unhex(t, "16 12 03 70 75 62 1a 04 63 68 61 74 20 02 32 07 7b 22 61 22 3a 31 7d"), false, []byte(`{"a":1}`)},
	} {
		var rfs []*protocol.ReplyFrame
		err := tc.enc.SplitMessages(tc.frame, func(msg []byte) error {
			rf := new(protocol.ReplyFrame)
			rfs = append(rfs, rf)
			return decodeMessage(tc.enc, msg, rf)
		})
		if err != nil || len(rfs) != 1 {
			t.Fatalf("%v: % x: %d messages, %v", tc.enc, tc.frame, len(rfs), err)
		}
		rf := rfs[0]
		if rf.Op != protocol.OpPub || rf.Channel != "chat" || rf.Binary != tc.binary || !bytes.Equal(rf.Data, tc.data) {
			t.Errorf("%v: decoded %+v, want binary=%v data=%q", tc.enc, rf, tc.binary, tc.data)
		}
	}
}

// A history result in the binary encoding keeps binary and JSON
// publications apart through the client's result decoding.
func TestHistoryResultKeepsBinaryPublications(t *testing.T) {
	want := []*protocol.Publication{
		{Offset: 1, Data: []byte{0x89, 'P', 'N', 'G', 0x00}, Binary: true},
		{Offset: 2, Data: []byte(`{"text":"hi"}`)},
		{Offset: 3, Data: []byte{}, Binary: true},
	}
	for _, enc := range []protocol.Encoding{protocol.JSON, protocol.Protobuf} {
		msg, err := enc.EncodeReply(&protocol.Reply{ID: 4, Result: &protocol.HistoryResult{Offset: 3, Epoch: "e", Publications: want}})
		if err != nil {
			t.Fatal(err)
		}
		var rf protocol.ReplyFrame
		err = enc.SplitMessages(msg, func(m []byte) error { return decodeMessage(enc, m, &rf) })
		if err != nil {
			t.Fatal(err)
		}
		var res protocol.HistoryResult
		if err := decodeResult(&rf, &res); err != nil {
			t.Fatal(err)
		}
		if res.Offset != 3 || len(res.Publications) != len(want) {
			t.Fatalf("%v: result %+v", enc, res)
		}
		for i, p := range res.Publications {
			got := publicationFrom("ch", p)
			if got.Binary != want[i].Binary || !bytes.Equal(got.Data, want[i].Data) || got.Offset != want[i].Offset {
				t.Errorf("%v: publication %d = %+v, want %+v", enc, i, got, want[i])
			}
		}
	}
}

// A server that answers the handshake without a subprotocol (one older
// than the binary encoding) speaks JSON: the default client, which offered
// both encodings, publishes bytes to it in base64 and decodes its base64
// publications back to bytes.
func TestAutoEncodingSpeaksJSONWithoutSubprotocol(t *testing.T) {
	fs := startFake(t)
	defer fs.shutdown()
	ctx := testCtx(t)
	connected := make(chan ConnectedEvent, 1)
	pubs := make(chan Publication, 1)
	c := newClient(t, fs.url, Options{
		OnConnected:   func(e ConnectedEvent) { connected <- e },
		OnPublication: func(p Publication) { pubs <- p },
	})
	done := make(chan error, 1)
	go func() { done <- c.Connect(ctx) }()
	fc := fs.accept()
	if want := protocol.SubprotocolProtobuf + "," + protocol.SubprotocolJSON; fc.offered != want {
		t.Fatalf("offered %q, want %q", fc.offered, want)
	}
	fc.handshake(25)
	if err := receive(t, done, "Connect"); err != nil {
		t.Fatal(err)
	}
	if ev := receive(t, connected, "connected event"); ev.Encoding != EncodingJSON || ev.Transport != TransportWebSocket {
		t.Fatalf("connected event = %+v", ev)
	}

	published := make(chan error, 1)
	go func() {
		_, err := c.PublishBytes(ctx, "files", []byte{0xca, 0xfe})
		published <- err
	}()
	cmd := fc.expect(protocol.OpPublish)
	if !cmd.Binary || string(cmd.Data) != `"yv4="` {
		t.Fatalf("publish = %+v (data %s), want base64 data with binary", cmd, cmd.Data)
	}
	fc.reply(cmd.ID, `{"offset":1,"epoch":"e"}`)
	if err := receive(t, published, "PublishBytes"); err != nil {
		t.Fatal(err)
	}

	fc.send(`{"op":"pub","channel":"files","offset":1,"data":"yv4=","binary":true}`)
	if p := receive(t, pubs, "publication"); !p.Binary || !bytes.Equal(p.Data, []byte{0xca, 0xfe}) {
		t.Fatalf("publication = %+v", p)
	}
}

// EncodingProtobuf offers only the binary encoding, and a server that does
// not accept it fails the attempt with an error that says so.
func TestRequiredProtobufFailsWithoutIt(t *testing.T) {
	fs := startFake(t)
	defer fs.shutdown()
	rec := newRecorder()
	c := newClient(t, fs.url, rec.options(Options{Encoding: EncodingProtobuf}))
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	go func() { _ = c.Connect(ctx) }()
	if fc := fs.accept(); fc.offered != protocol.SubprotocolProtobuf {
		t.Fatalf("offered %q, want only %q", fc.offered, protocol.SubprotocolProtobuf)
	}
	rec.waitFor(t, "the refused attempt", func() bool {
		return len(rec.errors) > 0 && errors.Is(rec.errors[0], errNoProtobuf)
	})
	if n := read(rec, func() int { return len(rec.connected) }); n != 0 {
		t.Fatalf("%d connections", n)
	}
}

// Connect refuses an encoding it does not know, and one that no transport
// of Options.Transport speaks, before it dials.
func TestEncodingOptionIsChecked(t *testing.T) {
	for _, o := range []Options{
		{Encoding: "msgpack"},
		{Encoding: EncodingProtobuf, Transport: TransportSSE},
		{Encoding: EncodingProtobuf, Transport: TransportHTTPStream},
	} {
		c := New("ws://127.0.0.1:1/ws", o)
		err := c.Connect(testCtx(t))
		if err == nil || !strings.Contains(err.Error(), "Options.Encoding") {
			t.Errorf("Connect with %q over %q: %v", o.Encoding, o.Transport, err)
		}
		if st := c.State(); st != StateDisconnected {
			t.Errorf("state %v after a refused option", st)
		}
		_ = c.Close()
	}
}

// On the binary encoding, what a server should never send is reported and
// skipped, and the connection goes on: a frame whose length prefix breaks
// off (the messages before it are delivered) and a text frame.
func TestMalformedBinaryFramesAreReported(t *testing.T) {
	fs := startFakeSpeaking(t, protocol.SubprotocolProtobuf)
	defer fs.shutdown()
	rec := newRecorder()
	pubs := make(chan Publication, 4)
	o := rec.options(Options{})
	o.OnPublication = func(p Publication) { pubs <- p }
	c := newClient(t, fs.url, o)
	done := make(chan error, 1)
	go func() { done <- c.Connect(testCtx(t)) }()
	fc := fs.accept()
	fc.handshake(25)
	if err := receive(t, done, "Connect"); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "the connected event", func() bool { return len(rec.connected) == 1 })
	if ev := read(rec, func() ConnectedEvent { return rec.connected[0] }); ev.Encoding != EncodingProtobuf {
		t.Fatalf("connected with %q", ev.Encoding)
	}
	pub := func(offset uint64, data string) []byte {
		return protocol.AppendPubProtobuf(nil, "files", &protocol.Publication{Offset: offset, Data: []byte(data), Binary: true}, "")
	}

	// A good message, then a length prefix that promises more than follows.
	fc.sendFrame(websocket.MessageBinary, append(pub(1, "one"), 0x05, 0x12))
	if p := receive(t, pubs, "publication"); p.Offset != 1 || string(p.Data) != "one" || !p.Binary {
		t.Fatalf("publication = %+v", p)
	}
	rec.waitFor(t, "the malformed frame's report", func() bool {
		return len(rec.errors) == 1 && strings.Contains(rec.errors[0].Error(), "malformed frame")
	})
	fc.sendFrame(websocket.MessageText, []byte(`{"op":"pub","channel":"files","offset":2,"data":2}`))
	rec.waitFor(t, "the text frame's report", func() bool {
		return len(rec.errors) == 2 && strings.Contains(rec.errors[1].Error(), "MessageText")
	})
	fc.sendFrame(websocket.MessageBinary, pub(3, "three"))
	if p := receive(t, pubs, "publication"); p.Offset != 3 || string(p.Data) != "three" {
		t.Fatalf("publication after the bad frames = %+v", p)
	}
	if st := c.State(); st != StateConnected {
		t.Fatalf("state %v", st)
	}
}
