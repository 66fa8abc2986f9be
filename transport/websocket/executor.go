package websocket

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/panjf2000/ants/v2"
)

// executor runs the connections' message handlers off the poller, on
// goroutines that live on between messages.
//
// nbio's own pool starts a new goroutine for nearly every message. Each
// starts on a small stack and grows it, copy by copy, through the JSON
// decoding and the command handling; under connection churn that stack
// growth alone was 13% of the server's CPU. A worker kept by ants keeps its
// grown stack for the next message.
//
// nbio runs at most one handler of a connection at a time, so a handler
// never waits for a worker that its own connection holds. When every
// worker is busy (handlers blocked on a slow broker, say), a message runs
// on a goroutine of its own rather than stall the poller; their number is
// bounded by the connections.
type executor struct {
	pool   *ants.Pool
	logger *slog.Logger
}

// executorWorkers is the pool's size per CPU, nbio's own default for its
// message handler pool.
const executorWorkers = 1024

// executorIdle is how long an idle worker waits for work before it exits:
// a steady load keeps its workers busy, and the hundreds that a burst of
// connections started give their stacks back soon after it.
const executorIdle = time.Second

// newExecutor starts a pool of at most workers goroutines.
func newExecutor(workers int, logger *slog.Logger) (*executor, error) {
	e := &executor{logger: logger}
	pool, err := ants.NewPool(workers,
		ants.WithNonblocking(true),
		ants.WithExpiryDuration(executorIdle),
		ants.WithPanicHandler(e.panicked),
		ants.WithLogger(antsLogger{logger}),
	)
	if err != nil {
		return nil, err
	}
	e.pool = pool
	return e, nil
}

// execute runs f on a worker, or on a goroutine of its own when none is
// free. It never blocks the caller (the poller).
func (e *executor) execute(f func()) {
	if err := e.pool.Submit(f); err != nil {
		go e.runAlone(f)
	}
}

func (e *executor) runAlone(f func()) {
	defer func() {
		if p := recover(); p != nil {
			e.panicked(p)
		}
	}()
	f()
}

// panicked logs a handler's panic; the server goes on.
func (e *executor) panicked(p any) {
	e.logger.Error("message handler panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
}

// stop lets the workers exit once their current work is done.
func (e *executor) stop() { e.pool.Release() }

// antsLogger sends the pool's own messages to the transport's logger.
type antsLogger struct{ logger *slog.Logger }

func (l antsLogger) Printf(format string, args ...any) {
	l.logger.Warn("worker pool: " + fmt.Sprintf(format, args...))
}
