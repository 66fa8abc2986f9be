package protocol

import "testing"

// The decoder against the standard library's, on the commands that every
// connection sends: the figures behind DecodeCommand's choice of decoder.
var benchCommands = map[string][]byte{
	"connect":   []byte(`{"id":1,"op":"connect","token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl","name":"js","version":"1.0.0"}`),
	"subscribe": []byte(`{"id":2,"op":"subscribe","channel":"chat:lobby","recover":true,"offset":15,"epoch":"x7"}`),
	"publish":   []byte(`{"id":3,"op":"publish","channel":"chat:lobby","data":{"text":"hi"},"key":"k-81"}`),
}

func BenchmarkDecodeCommandByDecoder(b *testing.B) {
	for name, msg := range benchCommands {
		for _, d := range []struct {
			name   string
			decode func([]byte, *Command) error
		}{{"segmentio", DecodeCommand}, {"stdlib", decodeCommandStdlib}} {
			b.Run(name+"/"+d.name, func(b *testing.B) {
				var cmd Command
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					if err := d.decode(msg, &cmd); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
