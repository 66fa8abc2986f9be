//go:build !linux

package uring

import "fmt"

// Ring is Linux's io_uring; elsewhere New always fails and a Ring never
// exists.
type Ring struct{}

// New reports ErrUnavailable: io_uring is a Linux interface.
func New(entries int) (*Ring, error) {
	return nil, fmt.Errorf("%w: io_uring is Linux only", ErrUnavailable)
}

// Cap is never called: no Ring exists off Linux.
func (r *Ring) Cap() int { return 0 }

// Queued is never called: no Ring exists off Linux.
func (r *Ring) Queued() int { return 0 }

// QueueSend is never called: no Ring exists off Linux.
func (r *Ring) QueueSend(fd int, buf []byte, userData uint64) bool { return false }

// Submit is never called: no Ring exists off Linux.
func (r *Ring) Submit() ([]Completion, error) { return nil, ErrUnavailable }

// Close is never called: no Ring exists off Linux.
func (r *Ring) Close() {}
