package cli

import (
	"net"
	"syscall"
	"testing"
)

// keepAliveOn reads SO_KEEPALIVE of an accepted connection.
func keepAliveOn(t *testing.T, c net.Conn) bool {
	t.Helper()
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var serr error
	if err := raw.Control(func(fd uintptr) {
		v, serr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_KEEPALIVE)
	}); err != nil {
		t.Fatal(err)
	}
	if serr != nil {
		t.Fatal(serr)
	}
	return v != 0
}

// acceptOne accepts one connection on ln, failing the test on an error.
func acceptOne(t *testing.T, ln net.Listener) net.Conn {
	t.Helper()
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// The server's listener accepts connections without TCP keep-alive probes
// (Go's default listener turns them on, at four system calls each).
func TestListenerTurnsOffKeepAlive(t *testing.T) {
	std, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !keepAliveOn(t, acceptOne(t, std)) {
		t.Skip("this platform's default listener sets no keep-alive; nothing to compare")
	}
	ln, err := listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if keepAliveOn(t, acceptOne(t, ln)) {
		t.Fatal("an accepted connection has TCP keep-alive on")
	}
}
