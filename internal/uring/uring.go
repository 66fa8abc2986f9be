// Package uring is a small io_uring ring for one job: submitting many
// non-blocking socket sends in one system call and collecting their
// results.
//
// A Ring is owned by one goroutine at a time. Its owner queues sends with
// QueueSend (each with user data of its choosing), then Submit hands them
// all to the kernel in one io_uring_enter, waits until every one of them
// has completed and reports each result with its user data, in whatever
// order the kernel completed them.
//
// Every send carries MSG_DONTWAIT, so the kernel never parks one: a full
// socket completes at once with EAGAIN, and a socket with some room takes
// what fits (a partial send). What to do with the bytes that did not go is
// the caller's business (package websocket hands them to its poller).
//
// New fails with an error matching ErrUnavailable where io_uring cannot be
// used: kernels without it (ENOSYS), kernel.io_uring_disabled, seccomp
// profiles that refuse the system calls (EPERM), kernels without the send
// operation. New proves the ring with a real send on a socket pair before
// it returns one.
//
// The package uses golang.org/x/sys/unix only; docs/benchmarks.md says why
// it is not a library from the module proxy.
package uring

import "errors"

// ErrUnavailable is matched (errors.Is) by New's error when this system
// cannot use io_uring for sends.
var ErrUnavailable = errors.New("uring: io_uring is not available")

// Completion is the result of one queued send.
type Completion struct {
	// UserData is the value given to QueueSend.
	UserData uint64
	// Res is the bytes sent, or a negated errno (-EAGAIN for a full
	// socket).
	Res int32
}
