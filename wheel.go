package herald

import (
	"sync"
	"time"
)

// wheel keeps every session's next heartbeat step: the connect deadline,
// then "time to ping" and "the pong is late" in turn (heartbeat.go). It is a
// hashed timing wheel: a session is linked into the slot of the tick it is
// due at, through two pointers of its own, so that waiting costs a session
// no timer and no allocation, and scheduling and cancelling are constant
// time. One runtime timer per node, armed only while a session waits,
// visits the slots as their ticks pass and calls the sessions that are due,
// one after another, on the timer's goroutine.
//
// A step fires at its tick or later, never sooner: at most one tick (see
// wheelTick) after the duration it was scheduled with. The timer is set
// for the next tick whose slot holds a session, so a node whose sessions
// wait for the same few ticks (they connected together) wakes up only then.
//
// Lock order: Session.mu -> wheel.mu. The wheel never calls a session while
// holding its lock.
type wheel struct {
	mu      sync.Mutex
	tick    time.Duration
	start   time.Time  // the origin of tick numbers (monotonic)
	slots   []*Session // the first session of each slot; len is a power of two
	done    int64      // the last tick whose slot was visited
	waiting int        // sessions linked in
	timer   *time.Timer
	armed   bool  // the timer is set, for armedAt
	armedAt int64 // a tick
	running bool  // a visit is calling sessions; it sets the timer when done
	stopped bool
	due     []wheelDue // the visit's due sessions, reused
}

// wheelDue is a session that a visit unlinked, with the tick it was due at.
type wheelDue struct {
	s    *Session
	tick int64
}

// wheelTick is the wheel's resolution for a node's settings: a sixteenth of
// the shortest of the connect timeout, the ping interval and the pong
// timeout, between 1 ms and 100 ms (100 ms with the defaults).
func wheelTick(cfg *Config) time.Duration {
	d := min(cfg.ConnectTimeout, cfg.PingInterval, cfg.PongTimeout) / 16
	return min(max(d, time.Millisecond), 100*time.Millisecond)
}

// wheelSlots is the number of slots: enough for the longest of the three
// durations to fit in one turn of the wheel, a power of two, between 64 and
// 4096. A step further away than one turn stays in its slot for more turns.
func wheelSlots(cfg *Config, tick time.Duration) int {
	longest := max(cfg.ConnectTimeout, cfg.PingInterval, cfg.PongTimeout)
	n := 64
	for n < 4096 && time.Duration(n)*tick <= longest {
		n *= 2
	}
	return n
}

// init sizes the wheel for cfg, the first time a session uses it. mu is held.
func (w *wheel) init(cfg *Config) {
	w.tick = wheelTick(cfg)
	w.slots = make([]*Session, wheelSlots(cfg, w.tick))
	w.start = time.Now()
}

// schedule links s in to be called d from now, replacing the step it was
// waiting for. s.mu is held.
func (w *wheel) schedule(s *Session, d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.slots == nil {
		w.init(&s.node.cfg)
	}
	if s.wheelIn {
		w.unlinkLocked(s)
	}
	// Round up: the step may come late by a tick, never early.
	s.wheelTick = int64((time.Since(w.start) + d + w.tick - 1) / w.tick)
	if s.wheelTick <= w.done {
		s.wheelTick = w.done + 1
	}
	slot := &w.slots[s.wheelTick&int64(len(w.slots)-1)]
	s.wheelPrev, s.wheelNext = nil, *slot
	if *slot != nil {
		(*slot).wheelPrev = s
	}
	*slot = s
	s.wheelIn = true
	w.waiting++
	if !w.stopped && !w.running && (!w.armed || s.wheelTick < w.armedAt) {
		w.armLocked(s.wheelTick)
	}
}

// cancel unlinks s: its pending step will not be called. s.mu is held.
func (w *wheel) cancel(s *Session) {
	w.mu.Lock()
	if s.wheelIn {
		w.unlinkLocked(s)
	}
	s.wheelTick = 0
	w.mu.Unlock()
}

func (w *wheel) unlinkLocked(s *Session) {
	if s.wheelPrev != nil {
		s.wheelPrev.wheelNext = s.wheelNext
	} else {
		w.slots[s.wheelTick&int64(len(w.slots)-1)] = s.wheelNext
	}
	if s.wheelNext != nil {
		s.wheelNext.wheelPrev = s.wheelPrev
	}
	s.wheelNext, s.wheelPrev, s.wheelIn = nil, nil, false
	w.waiting--
}

// armLocked sets the timer for tick.
func (w *wheel) armLocked(tick int64) {
	d := max(time.Duration(tick)*w.tick-time.Since(w.start), 0)
	if w.timer == nil {
		w.timer = time.AfterFunc(d, w.visit)
	} else {
		w.timer.Reset(d)
	}
	w.armed, w.armedAt = true, tick
}

// nextTickLocked returns the first tick after the last visited one whose
// slot holds a session. Sessions are waiting.
func (w *wheel) nextTickLocked() int64 {
	mask := int64(len(w.slots) - 1)
	for t := w.done + 1; t <= w.done+int64(len(w.slots)); t++ {
		if w.slots[t&mask] != nil {
			return t
		}
	}
	return w.done + 1
}

// visit runs on the timer: it unlinks the sessions whose tick has come and
// calls them, then sets the timer again while sessions wait.
func (w *wheel) visit() {
	w.mu.Lock()
	if w.running {
		w.mu.Unlock()
		return // the running visit sets the timer when it is done
	}
	w.running, w.armed = true, false
	now := int64(time.Since(w.start) / w.tick)
	mask := int64(len(w.slots) - 1)
	from := w.done + 1
	if now-from >= int64(len(w.slots)) {
		from = now - int64(len(w.slots)) + 1 // one turn visits every slot
	}
	due := w.due
	for t := from; t <= now; t++ {
		for s := w.slots[t&mask]; s != nil; {
			next := s.wheelNext
			if s.wheelTick <= now {
				due = append(due, wheelDue{s: s, tick: s.wheelTick})
				w.unlinkLocked(s)
			}
			s = next
		}
	}
	w.done = max(w.done, now)
	w.due = nil
	w.mu.Unlock()

	// Pings go to the writers in batches, as a fan-out's publications do.
	var b scheduleBatch
	for _, d := range due {
		d.s.onTimer(d.tick, &b)
	}
	b.flush()

	clear(due)
	w.mu.Lock()
	if cap(due) <= 4096 {
		w.due = due[:0]
	}
	w.running = false
	if w.waiting > 0 && !w.stopped {
		w.armLocked(w.nextTickLocked())
	}
	w.mu.Unlock()
}

// len returns the number of sessions waiting.
func (w *wheel) len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.waiting
}

// stop stops the timer; sessions scheduled afterwards are never called.
func (w *wheel) stop() {
	w.mu.Lock()
	w.stopped = true
	if w.timer != nil {
		w.timer.Stop()
	}
	w.armed = false
	w.mu.Unlock()
}
