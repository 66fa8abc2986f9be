//go:build linux

package uring

import (
	"bytes"
	"errors"
	"net"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// newRing returns a ring, skipping the test where io_uring is unavailable
// (the package's callers fall back to write(2) there).
func newRing(t testing.TB, entries int) *Ring {
	t.Helper()
	r, err := New(entries)
	if errors.Is(err, ErrUnavailable) {
		needIOUring(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// tcpPair returns the two ends of a loopback TCP connection as raw fds
// (the sender's in non-blocking mode, as a poller keeps it), with the
// sender's SO_SNDBUF set to sndbuf when it is not 0.
func tcpPair(t testing.TB, sndbuf int) (send, recv int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dialed, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	accepted, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	send = dupFD(t, dialed.(*net.TCPConn))
	recv = dupFD(t, accepted.(*net.TCPConn))
	dialed.Close()
	accepted.Close()
	if sndbuf > 0 {
		if err := unix.SetsockoptInt(send, unix.SOL_SOCKET, unix.SO_SNDBUF, sndbuf); err != nil {
			t.Fatal(err)
		}
		if err := unix.SetsockoptInt(recv, unix.SOL_SOCKET, unix.SO_RCVBUF, sndbuf); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.SetNonblock(send, true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(send); unix.Close(recv) })
	return send, recv
}

func dupFD(t testing.TB, c *net.TCPConn) int {
	t.Helper()
	f, err := c.File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd, err := unix.Dup(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

// readN reads exactly n bytes from the blocking fd.
func readN(t testing.TB, fd, n int) []byte {
	t.Helper()
	buf := make([]byte, n)
	for got := 0; got < n; {
		m, err := unix.Read(fd, buf[got:])
		if err != nil || m == 0 {
			t.Fatalf("read after %d of %d bytes: %v", got, n, err)
		}
		got += m
	}
	return buf
}

func TestSubmitSendsEverySocketItsOwnBytes(t *testing.T) {
	r := newRing(t, 64)
	const conns = 40
	send := make([]int, conns)
	recv := make([]int, conns)
	for i := range send {
		send[i], recv[i] = tcpPair(t, 0)
	}
	msg := func(i int) []byte { return bytes.Repeat([]byte{byte('a' + i%26)}, 100+i) }
	// User data that is not the queue order: completions are matched by
	// it, never by position.
	for i := range send {
		if !r.QueueSend(send[i], msg(i), uint64(1000+i*7)) {
			t.Fatal("QueueSend refused below Cap")
		}
	}
	done, err := r.Submit()
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != conns {
		t.Fatalf("%d completions for %d sends", len(done), conns)
	}
	seen := map[uint64]bool{}
	for _, c := range done {
		i := int(c.UserData-1000) / 7
		if seen[c.UserData] || i < 0 || i >= conns {
			t.Fatalf("unexpected completion %+v", c)
		}
		seen[c.UserData] = true
		if int(c.Res) != len(msg(i)) {
			t.Errorf("send %d: res %d, want %d", i, c.Res, len(msg(i)))
		}
	}
	for i := range recv {
		if got := readN(t, recv[i], len(msg(i))); !bytes.Equal(got, msg(i)) {
			t.Errorf("socket %d got another socket's bytes", i)
		}
	}
}

func TestFullSocketAnswersEAGAINAfterAPartialSend(t *testing.T) {
	r := newRing(t, 8)
	send, recv := tcpPair(t, 4096)
	chunk := bytes.Repeat([]byte("x"), 256<<10) // more than the socket holds
	var sent int
	var partial, again bool
	for i := 0; i < 1000 && !again; i++ {
		r.QueueSend(send, chunk, uint64(i))
		done, err := r.Submit()
		if err != nil {
			t.Fatal(err)
		}
		switch res := done[0].Res; {
		case res == -int32(unix.EAGAIN):
			again = true
		case res < 0:
			t.Fatalf("send: %v", unix.Errno(-res))
		case int(res) < len(chunk):
			partial = true
			sent += int(res)
		default:
			sent += int(res)
		}
	}
	if !again {
		t.Fatal("a socket whose reader does not read never answered EAGAIN")
	}
	if !partial {
		t.Error("the socket filled up without one partial send")
	}
	// Every byte the ring reported as sent arrives, and nothing more.
	got := readN(t, recv, sent)
	if !bytes.Equal(got, bytes.Repeat([]byte("x"), sent)) {
		t.Error("the bytes received differ from the bytes sent")
	}
	if err := unix.SetNonblock(recv, true); err != nil {
		t.Fatal(err)
	}
	if n, err := unix.Read(recv, make([]byte, 1)); n > 0 || !errors.Is(err, unix.EAGAIN) {
		t.Errorf("more bytes arrived than the ring reported: %d, %v", n, err)
	}
}

func TestSendsToClosedSocketsFailAlone(t *testing.T) {
	r := newRing(t, 8)
	good, goodRecv := tcpPair(t, 0)
	reset, resetRecv := tcpPair(t, 0)
	// The peer of one socket is gone: its send fails (EPIPE or
	// ECONNRESET) without affecting the others in the batch.
	unix.Close(resetRecv)
	// Another fd was closed before the submission: EBADF.
	closed, _ := tcpPair(t, 0)
	unix.Close(closed)
	var outcome map[uint64]int32
	for attempt := 0; attempt < 3; attempt++ {
		r.QueueSend(reset, []byte("lost"), 1)
		r.QueueSend(closed, []byte("lost"), 2)
		r.QueueSend(good, []byte("kept"), 3)
		done, err := r.Submit()
		if err != nil {
			t.Fatal(err)
		}
		outcome = map[uint64]int32{}
		for _, c := range done {
			outcome[c.UserData] = c.Res
		}
		if outcome[1] < 0 {
			break // the first send after a close may still be taken; the next fails
		}
	}
	if outcome[1] >= 0 {
		t.Errorf("send to a reset connection: %d", outcome[1])
	}
	if outcome[2] != -int32(unix.EBADF) {
		t.Errorf("send on a closed fd: %d, want -EBADF", outcome[2])
	}
	if outcome[3] != 4 {
		t.Errorf("send beside the failures: %d, want 4", outcome[3])
	}
	if got := readN(t, goodRecv, 4); string(got[:4]) != "kept" {
		t.Errorf("good socket got %q", got)
	}
}

func TestQueueSendStopsAtCap(t *testing.T) {
	r := newRing(t, 4)
	send, recv := tcpPair(t, 0)
	for i := 0; i < r.Cap(); i++ {
		if !r.QueueSend(send, []byte{byte(i)}, uint64(i)) {
			t.Fatalf("refused send %d below Cap %d", i, r.Cap())
		}
	}
	if r.QueueSend(send, []byte{9}, 9) {
		t.Fatal("QueueSend took a send past Cap")
	}
	done, err := r.Submit()
	if err != nil || len(done) != r.Cap() {
		t.Fatalf("Submit: %d completions, %v", len(done), err)
	}
	// Several sends to one socket in one batch: the ring keeps them in
	// order here (the kernel runs them inline, in queue order), which is
	// why the transport still never queues two for one connection.
	got := readN(t, recv, r.Cap())
	for i, b := range got {
		if int(b) != i {
			t.Fatalf("byte %d is %d", i, b)
		}
	}
	if r.Queued() != 0 {
		t.Fatal("sends still queued after Submit")
	}
}

func TestSubmitWithNothingQueued(t *testing.T) {
	r := newRing(t, 4)
	done, err := r.Submit()
	if err != nil || len(done) != 0 {
		t.Fatalf("empty Submit: %v, %v", done, err)
	}
}

// needIOUring skips a test of the io_uring path where the system refuses
// io_uring, or fails it under HERALD_REQUIRE_SERVICES=1, as CI sets it: CI
// must run the io_uring path.
func needIOUring(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("HERALD_REQUIRE_SERVICES") == "1" {
		t.Fatalf("io_uring unavailable: %v", err)
	}
	t.Skipf("io_uring unavailable here: %v", err)
}
