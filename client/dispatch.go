package client

import (
	"sync"
	"sync/atomic"
)

// dispatcher runs the application's handlers one at a time, in the order the
// client queued them, on a goroutine of their own. The reader never waits
// for a handler, so a slow handler cannot delay pongs or replies, and a
// handler may call any Client method (a Publish from OnPublication waits for
// a reply that the reader is free to deliver).
//
// The goroutine exists only while events are queued: it starts on the first
// push and exits when the queue is empty, so an idle client holds none.
type dispatcher struct {
	mu      sync.Mutex
	queue   []func()
	running bool
	idle    chan struct{} // closed when the running goroutine exits

	inHandler atomic.Bool
}

// push queues fn. It never blocks.
func (d *dispatcher) push(fn func()) {
	d.mu.Lock()
	d.queue = append(d.queue, fn)
	if !d.running {
		d.running = true
		d.idle = make(chan struct{})
		go d.loop(d.idle)
	}
	d.mu.Unlock()
}

func (d *dispatcher) loop(idle chan struct{}) {
	defer close(idle)
	var batch []func()
	for {
		d.mu.Lock()
		if len(d.queue) == 0 {
			d.running = false
			d.mu.Unlock()
			return
		}
		batch, d.queue = d.queue, batch[:0]
		d.mu.Unlock()
		for i, fn := range batch {
			d.inHandler.Store(true)
			fn()
			d.inHandler.Store(false)
			batch[i] = nil
		}
	}
}

// wait returns once every queued handler has run, unless it is called from
// a handler (which would wait for itself).
func (d *dispatcher) wait() {
	if d.inHandler.Load() {
		return
	}
	d.mu.Lock()
	running, idle := d.running, d.idle
	d.mu.Unlock()
	if running {
		<-idle
	}
}
