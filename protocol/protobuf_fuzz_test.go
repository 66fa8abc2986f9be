package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeCommandProtobuf feeds the Protobuf decoder arbitrary frames.
// It must never panic; whatever it accepts must be a well-formed command
// (an op, an id where one is needed, JSON data unless binary) that encodes
// and decodes again to itself; and a field error must come with the id to
// answer it.
func FuzzDecodeCommandProtobuf(f *testing.F) {
	for _, cmd := range []*Command{
		{ID: 1, Op: OpConnect, Token: "x", Data: json.RawMessage(`{"a":[1,2]}`), Subs: map[string]*StreamPosition{"c": {Offset: 3, Epoch: "e"}}},
		{ID: 2, Op: OpSubscribe, Channel: "chat:lobby", Recover: true, Offset: 15, Epoch: "x7"},
		{ID: 3, Op: OpPublish, Channel: "c", Data: []byte{0, 1, 2}, Binary: true, Key: "k"},
		{ID: 4, Op: OpHistory, Channel: "c", Since: &StreamPosition{Offset: 1, Epoch: "e"}, Limit: 10},
		{Op: OpPong},
	} {
		f.Add(AppendCommandProtobuf(nil, cmd))
	}
	f.Add(append(AppendCommandProtobuf(nil, &Command{ID: 1, Op: OpConnect}), AppendCommandProtobuf(nil, &Command{Op: OpPong})...))
	f.Add([]byte{0x05, 0x0a, 0x03, 'a', 'b'})
	f.Add([]byte{0x02, 0x08})
	f.Fuzz(func(t *testing.T, frame []byte) {
		_ = SplitProtobuf(frame, func(msg []byte) error {
			var cmd Command
			err := DecodeCommandProtobuf(msg, &cmd)
			if errors.Is(err, ErrInvalidField) && cmd.ID == 0 && NeedsID(cmd.Op) {
				t.Fatalf("%q: a field error without an id to answer", msg)
			}
			if err != nil {
				return nil
			}
			if cmd.Op == "" || NeedsID(cmd.Op) && cmd.ID == 0 {
				t.Fatalf("accepted %q as %+v", msg, cmd)
			}
			if !cmd.Binary && cmd.Data != nil && (!json.Valid(cmd.Data) || !utf8.Valid(cmd.Data)) {
				t.Fatalf("accepted data that is not JSON: %q", cmd.Data)
			}
			if cmd.Binary && cmd.Data == nil {
				t.Fatalf("binary command without data bytes: %q", msg)
			}
			var again Command
			if err := decodeOneCommand(AppendCommandProtobuf(nil, &cmd), &again); err != nil {
				t.Fatalf("re-encoded %+v does not decode: %v", cmd, err)
			}
			if !reflect.DeepEqual(again, cmd) {
				t.Fatalf("re-encoding changed\n%+v\ninto\n%+v", cmd, again)
			}
			return nil
		})
	})
}

// FuzzProtobufRoundTrip builds commands and publications from arbitrary
// field values, encodes them in Protobuf and decodes them again: commands
// must come back equal, and a `pub` push must read as its JSON encoding
// reads.
func FuzzProtobufRoundTrip(f *testing.F) {
	f.Add(uint64(1), "publish", "chat", []byte("hi"), true, "k", uint64(5), "e", int64(-3), int64(1764127800123))
	f.Add(uint64(0), "pong", "", []byte(nil), false, "", uint64(0), "", int64(0), int64(0))
	f.Add(uint64(1<<63), "x", "\u2028<>", []byte(`{"a":1}`), false, "\x00", uint64(1), "é", int64(1<<40), int64(1))
	f.Fuzz(func(t *testing.T, id uint64, op, channel string, data []byte, binary bool, key string, offset uint64, epoch string, limit, tm int64) {
		for _, s := range []string{op, channel, key, epoch} {
			if !utf8.ValidString(s) {
				return // strings are UTF-8 in both encodings
			}
		}
		if !binary && len(data) > 0 && (!json.Valid(data) || !utf8.Valid(data)) {
			return // JSON data is JSON, in UTF-8 (json.Valid alone lets invalid UTF-8 through)
		}
		if !binary && len(data) > 0 {
			// Canonical JSON, so that both decoders keep it as it is
			// (a JSON decoder drops white space around a value).
			var buf bytes.Buffer
			_ = json.Compact(&buf, data)
			data = buf.Bytes()
		}
		cmd := &Command{ID: id, Op: op, Channel: channel, Data: data, Binary: binary, Key: key, Offset: offset, Epoch: epoch, Limit: int(limit)}
		if binary && data == nil {
			cmd.Data = json.RawMessage{}
		}
		if len(cmd.Data) == 0 && !binary {
			cmd.Data = nil
		}
		var got Command
		err := decodeOneCommand(AppendCommandProtobuf(nil, cmd), &got)
		switch {
		case op == "" || id == 0 && NeedsID(op):
			if err == nil {
				t.Fatalf("accepted %+v", cmd)
			}
		case binary && op != OpPublish:
			if !errors.Is(err, ErrInvalidField) {
				t.Fatalf("binary data on %q: %v, want ErrInvalidField", op, err)
			}
		case err != nil || !reflect.DeepEqual(&got, cmd):
			t.Fatalf("round trip of %+v gave %+v, %v", cmd, got, err)
		}

		pub := &Publication{Offset: offset, Data: cmd.Data, Binary: binary, Key: key, Time: tm}
		if tm < 0 {
			pub.Time = 0 // a publication's time is never negative
		}
		if channel == "" {
			channel = "c"
		}
		var fj, fp ReplyFrame
		js := AppendPub(nil, channel, pub, epoch)
		if err := DecodeReplyFrame(js, &fj); err != nil {
			t.Fatalf("JSON pub %s: %v", js, err)
		}
		pb := AppendPubProtobuf(nil, channel, pub, epoch)
		if err := SplitProtobuf(pb, func(m []byte) error { return DecodeReplyFrameProtobuf(m, &fp) }); err != nil {
			t.Fatalf("Protobuf pub: %v", err)
		}
		if !reflect.DeepEqual(fj, fp) {
			t.Fatalf("pub reads\n%+v in JSON,\n%+v in Protobuf", fj, fp)
		}
	})
}

// FuzzDecodeReplyFrameProtobuf feeds a client's decoder arbitrary server
// messages: it must never panic, and a result it accepts is valid JSON.
func FuzzDecodeReplyFrameProtobuf(f *testing.F) {
	info := &ClientInfo{Client: "c", User: "u", Data: json.RawMessage(`{}`)}
	f.Add(AppendPubProtobuf(nil, "ch", &Publication{Offset: 1, Data: []byte{1}, Binary: true, Info: info, Time: 5}, "e"))
	for _, r := range []*Reply{
		{ID: 1, Result: &ConnectResult{Client: "c", Subs: map[string]*SubscribeResult{"a": {Offset: 1, Publications: []*Publication{{Offset: 1, Data: []byte{0}, Binary: true}}}}}},
		{ID: 2, Result: &PresenceResult{Clients: map[string]*PresenceInfo{"c": {User: "u", Info: json.RawMessage(`1`)}}}},
		{ID: 3, Error: NewError(CodeBadRequest)},
	} {
		b, _ := EncodeReplyProtobuf(r)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		_ = SplitProtobuf(frame, func(msg []byte) error {
			var fr ReplyFrame
			if err := DecodeReplyFrameProtobuf(msg, &fr); err != nil {
				return nil
			}
			if fr.Result != nil && !json.Valid(fr.Result) {
				t.Fatalf("result is not JSON: %s", fr.Result)
			}
			if !fr.Binary && len(fr.Data) > 0 && !json.Valid(fr.Data) {
				t.Fatalf("data is not JSON: %q", fr.Data)
			}
			return nil
		})
	})
}
