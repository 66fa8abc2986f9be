package protocol

import (
	"bytes"
	"encoding/json"
	"testing"
)

// The figures behind the binary encoding's choice (docs/protocol.md,
// section 2.7; docs/benchmarks.md, "Binary encoding: the choice"): the
// cost and size of the `pub` push that fan-out encodes once per
// publication, and of decoding a publish command, in JSON, in MessagePack
// (the candidate in encoding_choice_msgpack_test.go, on tinylib/msgp's
// appenders and readers) and in Protobuf (the encoder and decoder this
// package ships, on protowire, length prefix included).
//
//	go test -run '^$' -bench 'EncodingChoice' -benchmem ./protocol/

// choicePayload is the 128-byte payload: raw bytes for the binary
// encodings, and for JSON the same size of JSON text.
var (
	choicePayload     = bytes.Repeat([]byte{0xA5, 0x00, 0x7F, 0xFF}, 32)
	choicePayloadJSON = json.RawMessage(`"` + string(bytes.Repeat([]byte("abcd"), 31)) + `ab"`)
	choiceInfo        = &ClientInfo{Client: "9c1e4b7a0f3d2e81", User: "alice"}
)

func choicePub(binary bool) *Publication {
	p := &Publication{Offset: 123456, Data: choicePayloadJSON, Info: choiceInfo, Time: 1764127800123}
	if binary {
		p.Data, p.Binary = choicePayload, true
	}
	return p
}

func BenchmarkEncodingChoicePubEncode(b *testing.B) {
	for _, c := range []struct {
		name   string
		binary bool
		enc    func(dst []byte, pub *Publication) []byte
	}{
		{"json", false, func(dst []byte, pub *Publication) []byte { return AppendPub(dst, "chat:lobby", pub, "x7") }},
		{"json-base64", true, func(dst []byte, pub *Publication) []byte { return AppendPub(dst, "chat:lobby", pub, "x7") }},
		{"msgpack", true, func(dst []byte, pub *Publication) []byte { return appendPubMsgpack(dst, "chat:lobby", pub, "x7") }},
		{"protobuf", true, func(dst []byte, pub *Publication) []byte { return AppendPubProtobuf(dst, "chat:lobby", pub, "x7") }},
	} {
		b.Run(c.name, func(b *testing.B) {
			pub := choicePub(c.binary)
			size := len(c.enc(nil, pub))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				// As the node does: one new buffer per publication, shared
				// by every subscriber (large enough for each encoding).
				_ = c.enc(make([]byte, 0, 512), pub)
			}
			b.ReportMetric(float64(size), "bytes/msg")
		})
	}
}

func BenchmarkEncodingChoicePublishDecode(b *testing.B) {
	cmd := &Command{ID: 3, Op: OpPublish, Channel: "chat:lobby", Data: choicePayload, Binary: true, Key: "k-81"}
	msgs := map[string][]byte{
		"json":     []byte(`{"id":3,"op":"publish","channel":"chat:lobby","data":` + string(choicePayloadJSON) + `,"key":"k-81"}`),
		"msgpack":  appendCommandMsgpack(nil, cmd),
		"protobuf": AppendCommandProtobuf(nil, cmd),
	}
	decoders := map[string]func([]byte, *Command) error{
		"json":    DecodeCommand,
		"msgpack": decodeCommandMsgpack,
		"protobuf": func(msg []byte, cmd *Command) error {
			return SplitProtobuf(msg, func(m []byte) error { return DecodeCommandProtobuf(m, cmd) })
		},
	}
	for _, name := range []string{"json", "msgpack", "protobuf"} {
		b.Run(name, func(b *testing.B) {
			msg, decode := msgs[name], decoders[name]
			var got Command
			if err := decode(msg, &got); err != nil || got.Channel != "chat:lobby" || len(got.Data) == 0 {
				b.Fatalf("decode: %v %+v", err, got)
			}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				_ = decode(msg, &got)
			}
			b.ReportMetric(float64(len(msg)), "bytes/msg")
		})
	}
}
