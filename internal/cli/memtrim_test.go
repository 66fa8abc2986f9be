package cli

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeHeap is an allocation counter the test moves, and a count of trims.
type fakeHeap struct {
	allocated atomic.Uint64
	perRead   atomic.Uint64 // added at every read: a steady allocation rate
	trims     atomic.Int32
	reads     atomic.Int32
}

// startTrimmer runs a trimmer over h until the test ends.
func startTrimmer(t *testing.T, h *fakeHeap, quiet time.Duration) {
	t.Helper()
	m := &memoryTrimmer{
		quiet:     quiet,
		tick:      time.Millisecond,
		allocated: func() uint64 { h.reads.Add(1); return h.allocated.Add(h.perRead.Load()) },
		trim:      func() { h.trims.Add(1) },
		log:       slog.New(slog.DiscardHandler),
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	// Let it take its first readings, so that what the test allocates
	// next counts as allocated while it runs.
	eventually(t, "the trimmer never read the counter", func() bool { return h.reads.Load() >= 2 })
}

// eventually waits up to 5 s for cond, failing the test with what.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(what)
		}
		time.Sleep(time.Millisecond)
	}
}

// After a burst, once allocation stays low for the quiet period, the
// trimmer returns memory once, and not again while nothing new happens.
func TestMemoryTrimmerTrimsOnceAfterABurst(t *testing.T) {
	h := &fakeHeap{}
	startTrimmer(t, h, 5*time.Millisecond)
	h.allocated.Add(64 << 20) // a wave of connects
	eventually(t, "no trim after the burst", func() bool { return h.trims.Load() == 1 })
	time.Sleep(50 * time.Millisecond)
	if n := h.trims.Load(); n != 1 {
		t.Fatalf("%d trims for one burst", n)
	}
	h.allocated.Add(64 << 20) // the next burst
	eventually(t, "no trim after the second burst", func() bool { return h.trims.Load() == 2 })
}

// A server under steady load is never quiet, so it is never trimmed.
func TestMemoryTrimmerLeavesABusyServerAlone(t *testing.T) {
	h := &fakeHeap{}
	h.perRead.Store(1 << 20) // 1 MiB per millisecond
	startTrimmer(t, h, 5*time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	if n := h.trims.Load(); n != 0 {
		t.Fatalf("trimmed a busy server %d times", n)
	}
}

// A quiet server that allocated little since the last trim has nothing
// worth a collection.
func TestMemoryTrimmerSkipsSmallAllocation(t *testing.T) {
	h := &fakeHeap{}
	startTrimmer(t, h, 5*time.Millisecond)
	h.allocated.Add(1 << 20)
	time.Sleep(100 * time.Millisecond)
	if n := h.trims.Load(); n != 0 {
		t.Fatalf("trimmed after 1 MiB: %d times", n)
	}
}

// --memory-trim-after 0 turns the trimmer off.
func TestMemoryTrimmerOff(t *testing.T) {
	m := newMemoryTrimmer(0, slog.New(slog.DiscardHandler))
	done := make(chan struct{})
	go func() { m.run(context.Background()); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a trimmer with no quiet period runs")
	}
}

// The real counter moves with allocation.
func TestHeapAllocatedCounts(t *testing.T) {
	before := heapAllocated()
	sink = make([]byte, 1<<20)
	if after := heapAllocated(); after < before+1<<20 {
		t.Fatalf("allocated %d -> %d after a 1 MiB allocation", before, after)
	}
}

// sink keeps the tests' allocations alive until they are counted.
var sink []byte

// TestServeMemoryTrimAfter: with --memory-trim-after, once a burst of
// allocation is followed by that long of quiet, the server returns free
// memory to the OS (and says so at debug level).
func TestServeMemoryTrimAfter(t *testing.T) {
	r := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--log-format=json", "--log-level=debug", "--memory-trim-after=100ms")
	trimmed := func() bool {
		return strings.Contains(r.logs.String(), `"msg":"returned free memory to the OS after a burst of allocation"`)
	}
	// The burst: the server counts the process's allocation, the test's
	// included. It is repeated in case the trimmer took its first reading
	// after it.
	for range 5 {
		sink = make([]byte, 2*trimBurst)
		sink = nil
		deadline := time.Now().Add(time.Second)
		for !trimmed() && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if trimmed() {
			return
		}
	}
	t.Fatalf("the server never returned memory after a burst:\n%s", r.logs)
}
