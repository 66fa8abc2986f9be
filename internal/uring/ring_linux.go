//go:build linux

package uring

import (
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The kernel's ABI (include/uapi/linux/io_uring.h).
const (
	opSend = 26 // IORING_OP_SEND, Linux 5.6

	setupCQSize             = 1 << 3 // IORING_SETUP_CQSIZE
	setupSubmitAll          = 1 << 7 // IORING_SETUP_SUBMIT_ALL, Linux 5.18
	setupCoopTaskrun        = 1 << 8 // IORING_SETUP_COOP_TASKRUN, Linux 5.19
	featSingleMmap          = 1 << 0 // IORING_FEAT_SINGLE_MMAP
	enterGetEvents          = 1 << 0 // IORING_ENTER_GETEVENTS
	offSQRing               = 0
	offCQRing               = 0x8000000
	offSQEs                 = 0x10000000
	sqeSize                 = 64
	cqeSize                 = 16
	maxEntries       uint32 = 4096
)

type sqRingOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type cqRingOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

type params struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFD uint32
	resv                                                                   [3]uint32
	sqOff                                                                  sqRingOffsets
	cqOff                                                                  cqRingOffsets
}

// sqe is struct io_uring_sqe, as far as a send uses it.
type sqe struct {
	opcode      uint8
	flags       uint8
	ioprio      uint16
	fd          int32
	off         uint64
	addr        uint64
	len         uint32
	msgFlags    uint32
	userData    uint64
	bufIndex    uint16
	personality uint16
	spliceFDIn  int32
	addr3       uint64
	pad         uint64
}

type cqe struct {
	userData uint64
	res      int32
	flags    uint32
}

// Ring is one io_uring instance for batched sends. It is not safe for
// concurrent use: one goroutine queues and submits at a time.
type Ring struct {
	fd      int
	entries uint32

	sqMem, cqMem, sqeMem []byte

	sqTail, sqMask *uint32
	cqHead, cqTail *uint32
	cqMask         uint32
	sqes           []sqe
	cqes           []cqe

	queued uint32 // sends queued since the last Submit
	// keep holds the buffers of the queued sends, so that the garbage
	// collector cannot free one while the kernel reads it.
	keep [][]byte
	done []Completion
}

// New sets up a ring for up to entries sends per Submit (rounded up to a
// power of two, at most 4096) and proves it with one real send.
func New(entries int) (*Ring, error) {
	n := uint32(1)
	for n < uint32(max(entries, 1)) && n < maxEntries {
		n <<= 1
	}
	r, err := setup(n, setupCQSize|setupSubmitAll|setupCoopTaskrun)
	if errors.Is(err, unix.EINVAL) {
		// Kernels before 5.19 do not know the last two flags; neither is
		// needed for correctness (every send completes during Submit).
		r, err = setup(n, setupCQSize)
	}
	if err != nil {
		return nil, err
	}
	if err := r.probe(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

func setup(entries, flags uint32) (*Ring, error) {
	p := params{flags: flags, cqEntries: 2 * entries}
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if errno != 0 {
		switch errno {
		case unix.ENOSYS, unix.EPERM, unix.EACCES:
			return nil, fmt.Errorf("%w: io_uring_setup: %v (no kernel support, kernel.io_uring_disabled, or a seccomp profile)", ErrUnavailable, errno)
		}
		return nil, fmt.Errorf("uring: io_uring_setup: %w", errno)
	}
	r := &Ring{fd: int(fd), entries: p.sqEntries}
	if p.features&featSingleMmap == 0 {
		r.Close()
		return nil, fmt.Errorf("%w: the kernel is older than 5.4 (no IORING_FEAT_SINGLE_MMAP)", ErrUnavailable)
	}
	size := max(int(p.sqOff.array)+int(p.sqEntries)*4, int(p.cqOff.cqes)+int(p.cqEntries)*cqeSize)
	var err error
	if r.sqMem, err = unix.Mmap(r.fd, offSQRing, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		r.Close()
		return nil, fmt.Errorf("uring: mmap the rings: %w", err)
	}
	r.cqMem = r.sqMem
	if r.sqeMem, err = unix.Mmap(r.fd, offSQEs, int(p.sqEntries)*sqeSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE); err != nil {
		r.Close()
		return nil, fmt.Errorf("uring: mmap the submission entries: %w", err)
	}
	sq := unsafe.Pointer(&r.sqMem[0])
	r.sqTail = (*uint32)(unsafe.Add(sq, p.sqOff.tail))
	r.sqMask = (*uint32)(unsafe.Add(sq, p.sqOff.ringMask))
	// Entry i of the submission array always names entry i of the SQEs.
	array := unsafe.Slice((*uint32)(unsafe.Add(sq, p.sqOff.array)), p.sqEntries)
	for i := range array {
		array[i] = uint32(i)
	}
	r.cqHead = (*uint32)(unsafe.Add(sq, p.cqOff.head))
	r.cqTail = (*uint32)(unsafe.Add(sq, p.cqOff.tail))
	r.cqMask = *(*uint32)(unsafe.Add(sq, p.cqOff.ringMask))
	r.cqes = unsafe.Slice((*cqe)(unsafe.Add(sq, p.cqOff.cqes)), p.cqEntries)
	r.sqes = unsafe.Slice((*sqe)(unsafe.Pointer(&r.sqeMem[0])), p.sqEntries)
	r.keep = make([][]byte, 0, p.sqEntries)
	r.done = make([]Completion, 0, p.sqEntries)
	return r, nil
}

// probe sends one byte through the ring on a socket pair: a kernel without
// the send operation, or a security module that refuses it, fails here
// rather than on a client's connection.
func (r *Ring) probe() error {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("uring: probe: %w", err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	r.QueueSend(fds[0], []byte{1}, 7)
	done, err := r.Submit()
	if err != nil {
		return fmt.Errorf("%w: probe send: %v", ErrUnavailable, err)
	}
	if len(done) != 1 || done[0].UserData != 7 || done[0].Res != 1 {
		res := int32(0)
		if len(done) == 1 {
			res = done[0].Res
		}
		return fmt.Errorf("%w: probe send answered %d (%v)", ErrUnavailable, res, errnoOf(res))
	}
	return nil
}

func errnoOf(res int32) error {
	if res >= 0 {
		return nil
	}
	return syscall.Errno(-res)
}

// Cap returns how many sends one Submit takes at most.
func (r *Ring) Cap() int { return int(r.entries) }

// Queued returns how many sends wait for the next Submit.
func (r *Ring) Queued() int { return int(r.queued) }

// QueueSend queues a send of buf on the socket fd, with MSG_DONTWAIT, to
// complete with userData. It reports false, queuing nothing, when Cap
// sends are queued already. The ring keeps buf referenced until Submit
// returns, and the caller must not change it before then.
func (r *Ring) QueueSend(fd int, buf []byte, userData uint64) bool {
	if r.queued == r.entries {
		return false
	}
	tail := atomic.LoadUint32(r.sqTail) + r.queued
	e := &r.sqes[tail&*r.sqMask]
	*e = sqe{opcode: opSend, fd: int32(fd), len: uint32(len(buf)), msgFlags: unix.MSG_DONTWAIT | unix.MSG_NOSIGNAL, userData: userData}
	if len(buf) > 0 {
		e.addr = uint64(uintptr(unsafe.Pointer(&buf[0])))
	}
	r.keep = append(r.keep, buf)
	r.queued++
	return true
}

// Submit hands every queued send to the kernel, waits until all of them
// completed (each completes at once: MSG_DONTWAIT) and returns their
// completions, in the kernel's order. The slice is valid until the next
// Submit. An error means the ring itself failed; sends queued then are
// reported with -ECANCELED where the kernel did not take them.
func (r *Ring) Submit() ([]Completion, error) {
	r.done = r.done[:0]
	n := r.queued
	if n == 0 {
		return r.done, nil
	}
	atomic.StoreUint32(r.sqTail, atomic.LoadUint32(r.sqTail)+n)
	r.queued = 0
	var err error
	submitted := uint32(0)
	for submitted < n || uint32(len(r.done)) < n {
		toSubmit := n - submitted
		wait := n - uint32(len(r.done))
		got, _, errno := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(toSubmit), uintptr(wait), enterGetEvents, 0, 0)
		if errno == unix.EINTR || errno == unix.EAGAIN || errno == unix.EBUSY {
			r.reap()
			continue
		}
		if errno != 0 {
			err = fmt.Errorf("uring: io_uring_enter: %w", errno)
			break
		}
		submitted += uint32(got)
		r.reap()
	}
	if err != nil {
		r.failUnsubmitted(n, submitted)
	}
	clear(r.keep)
	r.keep = r.keep[:0]
	return r.done, err
}

// reap moves every posted completion into r.done.
func (r *Ring) reap() {
	head := atomic.LoadUint32(r.cqHead)
	tail := atomic.LoadUint32(r.cqTail)
	for ; head != tail; head++ {
		c := &r.cqes[head&r.cqMask]
		r.done = append(r.done, Completion{UserData: c.userData, Res: c.res})
	}
	atomic.StoreUint32(r.cqHead, head)
}

// failUnsubmitted reports the sends the kernel never took as cancelled,
// after a failed io_uring_enter, and takes them back out of the queue.
func (r *Ring) failUnsubmitted(n, submitted uint32) {
	tail := atomic.LoadUint32(r.sqTail)
	for i := submitted; i < n; i++ {
		e := &r.sqes[(tail-n+i)&*r.sqMask]
		r.done = append(r.done, Completion{UserData: e.userData, Res: -int32(unix.ECANCELED)})
	}
	atomic.StoreUint32(r.sqTail, tail-(n-submitted))
}

// Close releases the ring. Nothing may be queued.
func (r *Ring) Close() {
	if r.sqeMem != nil {
		_ = unix.Munmap(r.sqeMem)
		r.sqeMem = nil
	}
	if r.sqMem != nil {
		_ = unix.Munmap(r.sqMem)
		r.sqMem, r.cqMem = nil, nil
	}
	if r.fd >= 0 {
		_ = unix.Close(r.fd)
		r.fd = -1
	}
}
