//go:build !linux

package bench

import (
	"errors"
	"net"
	"syscall"
)

// bindNoPort does nothing outside Linux.
func bindNoPort(_, _ string, _ syscall.RawConn) error { return nil }

// rawConnOf returns nil outside Linux: serve reads through net.Conn.
func rawConnOf(net.Conn) syscall.RawConn { return nil }

// sysRead is never called outside Linux.
func sysRead(uintptr, []byte) (int, error) { return 0, errors.ErrUnsupported }
