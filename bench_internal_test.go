package herald

import (
	"context"
	"encoding/json"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldrt/herald/protocol"
)

// discardConn counts what a session writes and throws it away.
type discardConn struct {
	frames, bytes atomic.Int64
	done          chan struct{}
	want          *atomic.Int64
}

func (c *discardConn) WriteText(b []byte) error {
	c.frames.Add(1)
	c.bytes.Add(int64(len(b)))
	if c.want != nil && c.want.Add(-1) == 0 {
		c.done <- struct{}{}
	}
	return nil
}

// WriteBinary counts a binary frame as WriteText counts a text one.
func (c *discardConn) WriteBinary(b []byte) error { return c.WriteText(b) }

func (c *discardConn) Pending() int      { return 0 }
func (c *discardConn) Close(int, string) {}
func (c *discardConn) Abort()            {}

// benchNode builds a node with n live sessions subscribed to "bench", each
// writing to a discardConn in encoding enc.
func benchNode(b *testing.B, n int, enc protocol.Encoding) (*Node, []*discardConn, *atomic.Int64, chan struct{}) {
	node, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = node.Shutdown(context.Background()) })
	want := &atomic.Int64{}
	done := make(chan struct{}, 1)
	conns := make([]*discardConn, n)
	for i := range conns {
		conns[i] = &discardConn{want: want, done: done}
		s := &Session{node: node, conn: conns[i], id: "s" + strconv.Itoa(i), connected: true, enc: enc}
		sub, _, err := s.subscribe(context.Background(), subscribeRequest{channel: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		s.goLive([]*subscription{sub}, []*protocol.SubscribeResult{{}}, func() []byte { return []byte("{}") })
	}
	// Drain the subscribe replies.
	time.Sleep(100 * time.Millisecond)
	return node, conns, want, done
}

// BenchmarkFanout5000 measures one publication delivered to 5,000
// subscribers: encoding once, the hub walk, each session's queue and the
// writer pool, down to the transport's write call. ns/op is per
// publication; the delivery figure is ns/op divided by 5,000.
func BenchmarkFanout5000(b *testing.B) {
	benchmarkFanout(b, protocol.JSON, &protocol.Publication{Data: json.RawMessage(`{"text":"` + string(make([]byte, 0)) + `hello, this is a 128-byte publication used to measure fan-out cost in herald benchmarks!!!!!!"}`)})
}

// BenchmarkFanout5000Protobuf is BenchmarkFanout5000 in the binary
// encoding, with a binary publication of the same 128 bytes.
func BenchmarkFanout5000Protobuf(b *testing.B) {
	benchmarkFanout(b, protocol.Protobuf, &protocol.Publication{Binary: true,
		Data: []byte(`{"text":"hello, this is a 128-byte publication used to measure fan-out cost in herald benchmarks!!!!!!"}`)})
}

func benchmarkFanout(b *testing.B, enc protocol.Encoding, pub *protocol.Publication) {
	const subscribers = 5000
	node, _, want, done := benchNode(b, subscribers, enc)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		want.Store(subscribers)
		p := *pub
		p.Offset = uint64(i + 1)
		node.handlePublication("bench", &p, "")
		<-done
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*subscribers), "ns/delivery")
}

// BenchmarkEncodePub measures encoding one publication push.
func BenchmarkEncodePub(b *testing.B) {
	pub := &protocol.Publication{Offset: 12345, Data: json.RawMessage(`{"text":"hello world","n":42}`),
		Info: &protocol.ClientInfo{Client: "c9f2a1b2c3d4e5f6", User: "42"}}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = protocol.AppendPub(buf[:0], "chat:lobby", pub, "")
	}
}

// BenchmarkDecodeCommand measures decoding one publish command.
func BenchmarkDecodeCommand(b *testing.B) {
	msg := []byte(`{"id":3,"op":"publish","channel":"chat:lobby","data":{"text":"hi"},"key":"k-81"}`)
	var cmd protocol.Command
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := protocol.DecodeCommand(msg, &cmd); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteQueueBatch measures queuing 16 messages on one session and
// flushing them as one joined frame.
func BenchmarkWriteQueueBatch(b *testing.B) {
	node, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = node.Shutdown(context.Background()) })
	c := &discardConn{}
	s := &Session{node: node, conn: c, id: "s", connected: true}
	msg := []byte(`{"op":"pub","channel":"chat:lobby","offset":1,"data":{"text":"hello world"}}`)
	w := newWriter(0, nil)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s.mu.Lock()
		for j := 0; j < 16; j++ {
			s.appendLocked(msg)
		}
		s.flushing = true
		s.mu.Unlock()
		s.flush(w)
	}
}
