package cli

import (
	"context"
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// memoryTrimmer gives memory back to the operating system once a burst of
// allocation is over, as the JVM's G1 does when it is idle (JEP 346).
//
// A burst of connections (a deploy, a reconnect storm) allocates a lot of
// short-lived memory: the handshakes' buffers and goroutine stacks. Go's
// collector then sets its next target from the heap it saw during the
// burst, and keeps that much memory until the next collection, which an
// idle server may not run for two minutes. So the process's RSS stays at
// the burst's high-water mark. Once the server has allocated little for
// `quiet`, the trimmer runs one collection and returns the free memory
// (debug.FreeOSMemory), so that RSS falls back to what the connections
// hold. It trims at most once per burst: a server under steady load is
// never quiet, and a quiet one is trimmed again only after another
// trimBurst of allocation.
type memoryTrimmer struct {
	quiet time.Duration // how long allocation must stay low; 0 turns trimming off
	tick  time.Duration // how often the allocation counter is read

	// allocated reads the bytes allocated since the process started; trim
	// collects and returns memory. Tests replace both.
	allocated func() uint64
	trim      func()
	log       *slog.Logger
}

// The trimmer's thresholds.
const (
	// trimBurst is how much allocation since the last trim makes a trim
	// worth its collection.
	trimBurst = 32 << 20
	// trimQuietRate is the allocation rate, in bytes per second, below
	// which the server counts as quiet.
	trimQuietRate = 1 << 20
)

// newMemoryTrimmer returns a trimmer of the process's heap that waits for
// quiet; 0 turns it off.
func newMemoryTrimmer(quiet time.Duration, log *slog.Logger) *memoryTrimmer {
	return &memoryTrimmer{
		quiet:     quiet,
		tick:      min(quiet, time.Second),
		allocated: heapAllocated,
		trim:      debug.FreeOSMemory,
		log:       log,
	}
}

// run trims until ctx ends.
func (m *memoryTrimmer) run(ctx context.Context) {
	if m.quiet <= 0 {
		return
	}
	t := time.NewTicker(m.tick)
	defer t.Stop()
	var (
		last      = m.allocated() // at the previous tick
		sinceTrim uint64          // bytes allocated since the last trim
		quietFor  time.Duration
	)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := m.allocated()
		delta := now - last
		last = now
		sinceTrim += delta
		if float64(delta) > trimQuietRate*m.tick.Seconds() {
			quietFor = 0
			continue
		}
		quietFor += m.tick
		if quietFor < m.quiet || sinceTrim < trimBurst {
			continue
		}
		start := time.Now()
		m.trim()
		m.log.Debug("returned free memory to the OS after a burst of allocation",
			"allocated_mib", sinceTrim>>20, "took", time.Since(start))
		sinceTrim = 0
		last = m.allocated()
	}
}

// heapAllocated reads the runtime's count of bytes allocated on the heap
// since the process started.
func heapAllocated() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
