package client

import (
	"testing"

	"github.com/heraldrt/herald/protocol"
)

// BenchmarkDecodeBinaryPub measures what a client spends on one `pub` push
// of a 1 KiB binary publication, in each encoding: base64 inside JSON
// against raw bytes in Protobuf.
func BenchmarkDecodeBinaryPub(b *testing.B) {
	pub := &protocol.Publication{Offset: 42, Data: make([]byte, 1024), Binary: true,
		Info: &protocol.ClientInfo{Client: "c1", User: "ann"}, Time: 1796531303054}
	for _, enc := range []protocol.Encoding{protocol.JSON, protocol.Protobuf} {
		frame := enc.AppendPub(nil, "photos", pub, "")
		b.Run(enc.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				err := enc.SplitMessages(frame, func(msg []byte) error {
					var rf protocol.ReplyFrame
					return decodeMessage(enc, msg, &rf)
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(frame)), "wire-bytes")
		})
	}
}

// BenchmarkEncodeBinaryPublish measures encoding PublishBytes's command
// for 1 KiB in each encoding.
func BenchmarkEncodeBinaryPublish(b *testing.B) {
	cmd := &protocol.Command{ID: 7, Op: protocol.OpPublish, Channel: "photos", Data: make([]byte, 1024), Binary: true}
	for _, enc := range []protocol.Encoding{protocol.JSON, protocol.Protobuf} {
		b.Run(enc.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := encodeCommand(enc, cmd); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
