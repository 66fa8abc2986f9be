package websocket

import (
	"bytes"
	"testing"

	"github.com/heraldrt/herald/internal/wsframe"
	nbws "github.com/lesismal/nbio/nbhttp/websocket"
)

// FuzzAppendFrame checks the batched path's frame builder against the
// test suite's frame reader: any payload, of any length class, reads back
// as one final, unmasked frame of its type, frameSize bytes long (the
// figure Pending counts).
func FuzzAppendFrame(f *testing.F) {
	f.Add([]byte("hello"), uint16(0), false)
	f.Add(bytes.Repeat([]byte("x"), 125), uint16(1), false)
	f.Add(bytes.Repeat([]byte("y"), 126), uint16(0), true)
	f.Add([]byte{}, uint16(65535), true)
	f.Fuzz(func(t *testing.T, data []byte, extra uint16, control bool) {
		typ := nbws.TextMessage
		if control {
			typ = nbws.CloseMessage
		} else {
			// Reach the 16- and 64-bit length encodings too.
			data = append(data, make([]byte, int(extra))...)
			if extra%16 == 0 {
				data = append(data, make([]byte, 65536)...)
			}
		}
		prefix := []byte("previous frame")
		out := appendFrame(append([]byte(nil), prefix...), typ, data)
		if !bytes.Equal(out[:len(prefix)], prefix) {
			t.Fatal("appendFrame changed the bytes before it")
		}
		frame := out[len(prefix):]
		if len(frame) != frameSize(len(data)) {
			t.Fatalf("a frame of %d bytes for %d bytes of payload; frameSize says %d", len(frame), len(data), frameSize(len(data)))
		}
		r := bytes.NewReader(frame)
		got, err := wsframe.ReadFrame(r)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Fin || got.Masked || got.Op != byte(typ) || !bytes.Equal(got.Payload, data) || r.Len() != 0 {
			t.Fatalf("read back fin %v masked %v op %d, %d of %d payload bytes, %d left over",
				got.Fin, got.Masked, got.Op, len(got.Payload), len(data), r.Len())
		}
	})
}
