package protocol

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// decodeOneCommand splits a frame holding one Protobuf command and decodes
// it.
func decodeOneCommand(frame []byte, cmd *Command) error {
	n := 0
	err := SplitProtobuf(frame, func(m []byte) error {
		n++
		return DecodeCommandProtobuf(m, cmd)
	})
	if err == nil && n != 1 {
		return errors.New("not one message")
	}
	return err
}

func TestProtobufCommandRoundTrip(t *testing.T) {
	for _, cmd := range []*Command{
		{ID: 1, Op: OpConnect, Token: "t", Name: "herald-go", Version: "1.0.0", Data: json.RawMessage(`{"a":[1,2]}`),
			Subs: map[string]*StreamPosition{"news": {Offset: 7, Epoch: "e1"}, "zero": {}}},
		{ID: 2, Op: OpSubscribe, Channel: "chat:lobby", Recover: true, Offset: 15, Epoch: "x7", Presence: true, Token: "ct"},
		{ID: 3, Op: OpPublish, Channel: "c", Data: json.RawMessage{0, 1, 2, 0xff}, Binary: true, Key: "k"},
		{ID: 4, Op: OpPublish, Channel: "c", Data: json.RawMessage{}, Binary: true},
		{ID: 5, Op: OpPublish, Channel: "c", Data: json.RawMessage(`"hi"`)},
		{ID: 6, Op: OpHistory, Channel: "c", Since: &StreamPosition{Offset: 1, Epoch: "e"}, Limit: -1, Reverse: true},
		{ID: 7, Op: OpRPC, Method: "time", Data: json.RawMessage(`null`)},
		{Op: OpPong},
		{Op: OpSend, Data: json.RawMessage(`[1]`)},
		{ID: 1 << 60, Op: "future-op"},
	} {
		var got Command
		if err := decodeOneCommand(AppendCommandProtobuf(nil, cmd), &got); err != nil {
			t.Fatalf("%+v: %v", cmd, err)
		}
		if !reflect.DeepEqual(&got, cmd) {
			t.Errorf("round trip changed the command:\n got %+v\nwant %+v", got, *cmd)
		}
	}
}

// pbField builds a raw Protobuf field, for malformed input.
func pbField(num protowire.Number, v any) []byte {
	switch v := v.(type) {
	case uint64:
		return protowire.AppendVarint(protowire.AppendTag(nil, num, protowire.VarintType), v)
	case string:
		return protowire.AppendString(protowire.AppendTag(nil, num, protowire.BytesType), v)
	case []byte:
		return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), v)
	}
	panic("pbField: unknown type")
}

func pbMsg(fields ...[]byte) []byte {
	var b []byte
	for _, f := range fields {
		b = append(b, f...)
	}
	return b
}

// TestDecodeCommandProtobufErrors holds the Protobuf decoder to the JSON
// decoder's errors, which decide between a reply (ErrInvalidField) and a
// close (any other).
func TestDecodeCommandProtobufErrors(t *testing.T) {
	id, op := pbField(cmdID, uint64(1)), pbField(cmdOp, "publish")
	cases := []struct {
		name string
		msg  []byte
		want error
	}{
		{"empty message", nil, ErrMissingOp},
		{"no op", pbMsg(id), ErrMissingOp},
		{"no id", pbMsg(op, pbField(cmdChannel, "c")), ErrMissingID},
		{"pong needs no id", pbMsg(pbField(cmdOp, "pong")), nil},
		{"unknown op with id", pbMsg(id, pbField(cmdOp, "future")), nil},
		{"unknown fields are skipped", pbMsg(id, op, pbField(99, "x"), pbField(100, uint64(5)), protowire.AppendFixed32(protowire.AppendTag(nil, 101, protowire.Fixed32Type), 1)), nil},
		{"channel as a varint", pbMsg(id, op, pbField(cmdChannel, uint64(1))), ErrInvalidField},
		{"limit as bytes", pbMsg(id, op, pbField(cmdLimit, "ten")), ErrInvalidField},
		{"id as bytes", pbMsg(pbField(cmdID, "1"), op), ErrInvalidProtobuf},
		{"op as a varint", pbMsg(id, pbField(cmdOp, uint64(1))), ErrInvalidProtobuf},
		{"invalid UTF-8 in channel", pbMsg(id, op, pbField(cmdChannel, "\xff")), ErrInvalidField},
		{"invalid UTF-8 in op", pbMsg(id, pbField(cmdOp, "\xff")), ErrInvalidProtobuf},
		{"data that is not JSON", pbMsg(id, op, pbField(cmdData, "{")), ErrInvalidField},
		{"data that is not UTF-8", pbMsg(id, op, pbField(cmdData, "\"\xff\"")), ErrInvalidField},
		{"binary data is anything", pbMsg(id, op, pbField(cmdData, "{\xff"), pbField(cmdBinary, uint64(1))), nil},
		{"since as a varint", pbMsg(id, op, pbField(cmdSince, uint64(3))), ErrInvalidField},
		{"since with a wrong offset", pbMsg(id, op, pbField(cmdSince, pbField(posOffset, "x"))), ErrInvalidField},
		{"a group", pbMsg(id, op, protowire.AppendTag(nil, 20, protowire.StartGroupType)), ErrInvalidProtobuf},
		{"a field cut short", pbMsg(id, op, pbField(cmdChannel, "chat")[:4]), ErrInvalidProtobuf},
		{"a malformed varint", pbMsg(id, op, []byte{byte(cmdOffset << 3), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}), ErrInvalidProtobuf},
		{"field number 0", pbMsg(id, op, []byte{0x00, 0x01}), ErrInvalidProtobuf},
		{"garbage", []byte("\xff\xff\xff\xff"), ErrInvalidProtobuf},
		{"JSON in a binary frame", []byte(`{"id":1,"op":"connect"}`), ErrInvalidProtobuf},
		{"a nested message cut short", pbMsg(id, op, pbField(cmdSince, []byte{byte(posEpoch<<3 | 2), 10, 'x'})), ErrInvalidProtobuf},
	}
	for _, tc := range cases {
		var cmd Command
		err := DecodeCommandProtobuf(tc.msg, &cmd)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
		if errors.Is(err, ErrInvalidField) && cmd.ID == 0 {
			t.Errorf("%s: a field error without the id to answer it with", tc.name)
		}
	}
}

func TestSplitProtobuf(t *testing.T) {
	a := AppendCommandProtobuf(nil, &Command{ID: 1, Op: OpConnect})
	b := AppendCommandProtobuf(nil, &Command{Op: OpPong})
	var ops []string
	err := SplitProtobuf(append(append(append([]byte{}, a...), 0x00), b...), func(m []byte) error {
		var cmd Command
		_ = DecodeCommandProtobuf(m, &cmd)
		ops = append(ops, cmd.Op)
		return nil
	})
	if err != nil || strings.Join(ops, ",") != "connect,,pong" {
		t.Fatalf("split %q, %v; want connect, an empty message, pong", ops, err)
	}
	for name, frame := range map[string][]byte{
		"length past the frame": append([]byte{0x7f}, a[1:]...),
		"malformed length":      {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"cut after a message":   append(append([]byte{}, a...), b[:len(b)-1]...),
	} {
		n := 0
		err := SplitProtobuf(frame, func([]byte) error { n++; return nil })
		if !errors.Is(err, ErrInvalidProtobuf) {
			t.Errorf("%s: error %v, want ErrInvalidProtobuf", name, err)
		}
		if name == "cut after a message" && n != 1 {
			t.Errorf("%s: %d messages before the error, want 1", name, n)
		}
	}
}

// decodeOneFrame decodes one server message in enc as a client does.
func decodeOneFrame(t *testing.T, enc Encoding, msg []byte) *ReplyFrame {
	t.Helper()
	var f ReplyFrame
	n := 0
	err := enc.SplitMessages(msg, func(m []byte) error {
		n++
		if enc == Protobuf {
			return DecodeReplyFrameProtobuf(m, &f)
		}
		return DecodeReplyFrame(m, &f)
	})
	if err != nil || n != 1 {
		t.Fatalf("%s: decode %q: %v (%d messages)", enc, msg, err, n)
	}
	return &f
}

// TestServerMessagesDecodeAlikeInBothEncodings encodes every kind of server
// message in both encodings and decodes each as a client does: the two
// must read the same, binary publications included.
func TestServerMessagesDecodeAlikeInBothEncodings(t *testing.T) {
	info := &ClientInfo{Client: "c1", User: "alice", Data: json.RawMessage(`{"name":"Alice"}`)}
	binPub := &Publication{Offset: 1, Data: []byte{0, 1, 0xfe, 0xff}, Binary: true, Info: info, Key: "k", Time: 1764127800123}
	jsonPub := &Publication{Offset: 2, Data: json.RawMessage(`{"text":"hi"}`), Time: 1764127800124}
	emptyBin := &Publication{Offset: 3, Data: []byte{}, Binary: true}
	sub := &SubscribeResult{Offset: 3, Epoch: "e", Recoverable: true, Recovered: true, Publications: []*Publication{binPub, jsonPub, emptyBin}}
	replies := []*Reply{
		{ID: 1, Result: &ConnectResult{Client: "c1", Node: "n", User: "alice", Ping: 25, Expires: 1764131400, Data: json.RawMessage(`[1]`),
			Subs: map[string]*SubscribeResult{"news": sub, "plain": {}}}},
		{ID: 2, Result: sub},
		{ID: 3, Result: &PublishResult{Offset: 9, Epoch: "e"}},
		{ID: 4, Result: &RPCResult{Data: json.RawMessage(`{"t":"now"}`)}},
		{ID: 5, Result: &PresenceResult{Clients: map[string]*PresenceInfo{"c1": {User: "alice", Info: json.RawMessage(`{"a":1}`)}, "c2": {}}}},
		{ID: 6, Result: &HistoryResult{Offset: 3, Epoch: "e", Publications: []*Publication{binPub, jsonPub}}},
		{ID: 7, Result: &RefreshResult{Expires: 1764131400}},
		{ID: 8, Result: Empty{}},
		{ID: 9, Error: NewError(CodePermissionDenied)},
	}
	for _, r := range replies {
		js, err := EncodeReply(r)
		if err != nil {
			t.Fatal(err)
		}
		pb, err := EncodeReplyProtobuf(r)
		if err != nil {
			t.Fatal(err)
		}
		fj, fp := decodeOneFrame(t, JSON, js), decodeOneFrame(t, Protobuf, pb)
		if fj.ID != fp.ID || !reflect.DeepEqual(fj.Error, fp.Error) {
			t.Errorf("reply %d: JSON reads %+v, Protobuf %+v", r.ID, fj, fp)
		}
		if (fj.Result == nil) != (fp.Result == nil) {
			t.Errorf("reply %d: result JSON %s, Protobuf %s", r.ID, fj.Result, fp.Result)
		}
		if fj.Result != nil {
			assertSameResult(t, r, fj.Result, fp.Result)
		}
	}
	pushes := map[string][2][]byte{
		"pub binary":  {AppendPub(nil, "ch", binPub, "e"), AppendPubProtobuf(nil, "ch", binPub, "e")},
		"pub json":    {AppendPub(nil, "ch", jsonPub, "e"), AppendPubProtobuf(nil, "ch", jsonPub, "e")},
		"pub empty":   {AppendPub(nil, "ch", emptyBin, ""), AppendPubProtobuf(nil, "ch", emptyBin, "")},
		"pub no data": {AppendPub(nil, "ch", &Publication{}, ""), AppendPubProtobuf(nil, "ch", &Publication{}, "")},
		"join":        {EncodePush(&Push{Op: OpJoin, Channel: "ch", Info: info}), EncodePushProtobuf(&Push{Op: OpJoin, Channel: "ch", Info: info})},
		"sub":         {EncodePush(&Push{Op: OpSub, Channel: "ch", SubscribeResult: &SubscribeResult{Offset: 4, Epoch: "e", Recoverable: true}}), EncodePushProtobuf(&Push{Op: OpSub, Channel: "ch", SubscribeResult: &SubscribeResult{Offset: 4, Epoch: "e", Recoverable: true}})},
		"unsub":       {EncodePush(&Push{Op: OpUnsub, Channel: "ch", Code: 120, Reason: "r"}), EncodePushProtobuf(&Push{Op: OpUnsub, Channel: "ch", Code: 120, Reason: "r"})},
		"message":     {EncodePush(&Push{Op: OpMessage, Data: json.RawMessage(`"m"`)}), EncodePushProtobuf(&Push{Op: OpMessage, Data: json.RawMessage(`"m"`)})},
		"ping":        {JSON.PingPush(), Protobuf.PingPush()},
		"refresh":     {EncodePush(&Push{Op: OpRefreshPush}), EncodePushProtobuf(&Push{Op: OpRefreshPush})},
		"disconnect":  {DisconnectPush(CloseSlowConsumer, "slow"), DisconnectPushProtobuf(CloseSlowConsumer, "slow")},
		"disconnect2": {DisconnectPush(CloseBadRequest, "bad"), DisconnectPushProtobuf(CloseBadRequest, "bad")},
	}
	for name, p := range pushes {
		fj, fp := decodeOneFrame(t, JSON, p[0]), decodeOneFrame(t, Protobuf, p[1])
		if !reflect.DeepEqual(fj, fp) {
			t.Errorf("%s: JSON reads\n%+v\nProtobuf reads\n%+v", name, fj, fp)
		}
	}
	if f := decodeOneFrame(t, Protobuf, AppendPubProtobuf(nil, "ch", binPub, "e")); !f.Binary || string(f.Data) != "\x00\x01\xfe\xff" || f.Epoch != "e" {
		t.Errorf("binary pub reads %+v", f)
	}
}

// assertSameResult decodes both results into r's result type, as a client
// does, and compares them.
func assertSameResult(t *testing.T, r *Reply, js, pb json.RawMessage) {
	t.Helper()
	typ := reflect.TypeOf(r.Result)
	if typ.Kind() != reflect.Pointer {
		typ = reflect.PointerTo(typ)
	}
	a, b := reflect.New(typ.Elem()).Interface(), reflect.New(typ.Elem()).Interface()
	if err := json.Unmarshal(js, a); err != nil {
		t.Fatalf("reply %d: JSON result %s: %v", r.ID, js, err)
	}
	if err := json.Unmarshal(pb, b); err != nil {
		t.Fatalf("reply %d: Protobuf result as JSON %s: %v", r.ID, pb, err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("reply %d: JSON result %s, Protobuf's %s", r.ID, js, pb)
	}
}

func TestAppendJoinedProtobufConcatenates(t *testing.T) {
	msgs := [][]byte{Protobuf.PingPush(), DisconnectPushProtobuf(3000, "x"), Protobuf.PingPush()}
	frame, n := Protobuf.AppendJoined(nil, msgs, len(msgs[0])+len(msgs[1]))
	if n != 2 || len(frame) != len(msgs[0])+len(msgs[1]) {
		t.Fatalf("joined %d messages in %d bytes", n, len(frame))
	}
	var ops []string
	_ = SplitProtobuf(frame, func(m []byte) error {
		var f ReplyFrame
		if err := DecodeReplyFrameProtobuf(m, &f); err != nil {
			t.Fatal(err)
		}
		ops = append(ops, f.Op)
		return nil
	})
	if strings.Join(ops, ",") != "ping,disconnect" {
		t.Fatalf("ops %q", ops)
	}
}

func TestEncodingOfSubprotocol(t *testing.T) {
	for sp, want := range map[string]Encoding{"": JSON, "herald.json": JSON, "herald.protobuf": Protobuf, "herald.msgpack": JSON, "mqtt": JSON} {
		if got := EncodingOf(sp); got != want {
			t.Errorf("EncodingOf(%q) = %s, want %s", sp, got, want)
		}
	}
	if Protobuf.Subprotocol() != SubprotocolProtobuf || !Protobuf.Binary() || JSON.Binary() {
		t.Fatal("Protobuf's subprotocol or framing")
	}
}

// TestProtocolDocCarriesTheSchema holds docs/protocol.md's copy of the
// schema to herald.proto, so that the spec a client is written from
// cannot drift from the one the code follows.
func TestProtocolDocCarriesTheSchema(t *testing.T) {
	proto, err := os.ReadFile("herald.proto")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	schema := string(proto[strings.Index(string(proto), `syntax = "proto3";`):])
	if !strings.Contains(string(doc), "```proto\n"+schema+"```\n") {
		t.Fatal("docs/protocol.md, section 2.7, must carry herald.proto from its syntax line on, in a ```proto block; copy it again")
	}
}

func TestBinaryOnlyOnPublish(t *testing.T) {
	var cmd Command
	err := DecodeCommandProtobuf(pbMsg(pbField(cmdID, uint64(4)), pbField(cmdOp, "rpc"), pbField(cmdData, "\x00"), pbField(cmdBinary, uint64(1))), &cmd)
	if !errors.Is(err, ErrInvalidField) || cmd.ID != 4 {
		t.Fatalf("binary rpc: %v, id %d", err, cmd.ID)
	}
	if err := DecodeCommand([]byte(`{"id":4,"op":"rpc","data":"AA==","binary":true}`), &cmd); !errors.Is(err, ErrInvalidField) {
		t.Fatalf("binary rpc in JSON: %v", err)
	}
}
