// Package lifecycle is the plumbing every distributed Herald broker (Redis,
// NATS) has alike: the started and closed flags, the context that ends at
// Close, the broker's goroutines, the gate that lets Close wait for the
// handler calls in flight, the per-operation timeout and the way a client
// error becomes the error a caller sees (fail.go).
package lifecycle

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldrt/herald/broker"
)

// Lifecycle is one broker's life from New to Close. Create it with New; it
// is safe for concurrent use.
type Lifecycle struct {
	name    string        // starts every error: "redis", "nats"
	timeout time.Duration // bounds one operation: Options.Timeout
	ctx     context.Context
	cancel  context.CancelFunc

	started atomic.Bool
	closed  atomic.Bool
	// gate lets Close wait for handler calls in flight: they hold it for
	// reading (Enter, Leave) and give up once closed is set.
	gate sync.RWMutex
	wg   sync.WaitGroup // the broker's goroutines (Go, Every)
}

// New returns the lifecycle of a broker named name (the first word of its
// errors) whose operations last at most timeout.
func New(name string, timeout time.Duration) *Lifecycle {
	ctx, cancel := context.WithCancel(context.Background())
	return &Lifecycle{name: name, timeout: timeout, ctx: ctx, cancel: cancel}
}

// Start marks the broker started: it fails with broker.ErrClosed after
// Close, and when Start was called before. A broker whose start then fails
// calls StartFailed, so that Start may be tried again.
func (l *Lifecycle) Start() error {
	if l.closed.Load() {
		return broker.ErrClosed
	}
	if !l.started.CompareAndSwap(false, true) {
		return errors.New(l.name + ": Start called twice")
	}
	return nil
}

// StartFailed undoes Start.
func (l *Lifecycle) StartFailed() { l.started.Store(false) }

// Closed reports whether Close was called.
func (l *Lifecycle) Closed() bool { return l.closed.Load() }

// Ready returns broker.ErrClosed after Close, nil before: the first check
// of every call a user makes.
func (l *Lifecycle) Ready() error {
	if l.closed.Load() {
		return broker.ErrClosed
	}
	return nil
}

// Context returns the context that ends when Close begins.
func (l *Lifecycle) Context() context.Context { return l.ctx }

// OpCtx bounds one operation by the timeout and by Close.
func (l *Lifecycle) OpCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	stop := context.AfterFunc(l.ctx, cancel)
	return ctx, func() { stop(); cancel() }
}

// Enter is called before a call into the handler; it returns false once
// the broker is closing. A true result must be paired with Leave.
func (l *Lifecycle) Enter() bool {
	l.gate.RLock()
	if l.closed.Load() {
		l.gate.RUnlock()
		return false
	}
	return true
}

// Leave ends what Enter began.
func (l *Lifecycle) Leave() { l.gate.RUnlock() }

// Go runs fn on a goroutine of the broker's, which Close waits for: fn must
// return once Context is done.
func (l *Lifecycle) Go(fn func()) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		fn()
	}()
}

// Every calls fn every d until Close, on a goroutine of the broker's.
func (l *Lifecycle) Every(d time.Duration, fn func()) {
	l.Go(func() {
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-l.ctx.Done():
				return
			case <-t.C:
			}
			fn()
		}
	})
}

// Serve calls fn for every value received from ch, one at a time, until
// Close, on a goroutine of the broker's.
func Serve[T any](l *Lifecycle, ch <-chan T, fn func(T)) {
	l.Go(func() {
		for {
			select {
			case <-l.ctx.Done():
				return
			case v := <-ch:
				fn(v)
			}
		}
	})
}

// Close marks the broker closed, ends Context, and waits for the handler
// calls in flight and the broker's goroutines. It reports whether this
// call closed the broker (false when it was closed already); the broker
// then closes its connections.
func (l *Lifecycle) Close() bool {
	if !l.closed.CompareAndSwap(false, true) {
		return false
	}
	l.cancel()
	l.gate.Lock() // wait for the handler calls in flight
	l.gate.Unlock()
	l.wg.Wait()
	return true
}
