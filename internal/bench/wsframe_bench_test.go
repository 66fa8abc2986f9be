package bench

import (
	"bytes"
	"io"
	"net"
	"testing"

	"github.com/heraldrt/herald/internal/wsframe"
)

// BenchmarkFrame measures taking small text messages out of the read
// buffer, the load generator's hot path on the receiving side.
func BenchmarkFrame(b *testing.B) {
	msg := []byte(`{"op":"pub","channel":"bench:0","offset":12345,"data":{"seq":1,"ts":1700000000000000000}}`)
	f := serverFrame(true, wsframe.OpText, msg)
	in := bytes.Repeat(f, readBufSize/len(f))
	c := &wsConn{small: make([]byte, readBufSize)}
	c.buf = c.small
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		c.r, c.w = 0, copy(c.buf, in)
		for {
			m, ok, err := c.frame()
			if err != nil {
				b.Fatal(err)
			}
			if !ok {
				break
			}
			if len(m) != len(msg) {
				b.Fatalf("message of %d bytes", len(m))
			}
		}
	}
}

// BenchmarkWriteFrame measures sending one small masked text frame.
func BenchmarkWriteFrame(b *testing.B) {
	msg := []byte(`{"id":7,"op":"publish","channel":"bench:0","data":{"seq":1,"ts":1700000000000000000}}`)
	c := &wsConn{conn: discardConn{}}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.writeText(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// discardConn is a net.Conn whose writes go nowhere.
type discardConn struct{ net.Conn }

func (discardConn) Write(p []byte) (int, error) { return io.Discard.Write(p) }
