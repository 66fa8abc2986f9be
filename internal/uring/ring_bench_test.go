//go:build linux

package uring

import (
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkFanOutSend sends one 130-byte frame to each of 512 loopback TCP
// connections per iteration, as a fan-out does: in one ring Submit, or in
// a loop of write(2). The receivers are drained with the timer stopped, so
// ns/send is the sender's time per send (on loopback it includes the
// kernel's delivery to the receiving socket, which runs in the sender's
// system call).
func BenchmarkFanOutSend(b *testing.B) {
	const conns = 512
	send := make([]int, conns)
	recv := make([]int, conns)
	for i := range send {
		send[i], recv[i] = tcpPair(b, 0)
	}
	frame := make([]byte, 130)
	sink := make([]byte, 4096)
	drain := func() {
		for _, fd := range recv {
			if _, err := unix.Read(fd, sink); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("ring", func(b *testing.B) {
		r := newRing(b, conns)
		for i := 0; i < b.N; i++ {
			for j, fd := range send {
				r.QueueSend(fd, frame, uint64(j))
			}
			done, err := r.Submit()
			if err != nil || len(done) != conns {
				b.Fatal(err)
			}
			b.StopTimer()
			drain()
			b.StartTimer()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*conns), "ns/send")
		b.ReportMetric(0, "ns/op")
	})
	b.Run("write", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for _, fd := range send {
				if _, err := unix.Write(fd, frame); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			drain()
			b.StartTimer()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*conns), "ns/send")
		b.ReportMetric(0, "ns/op")
	})
}
