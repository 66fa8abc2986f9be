package websocket

import (
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/syncbuf"
)

// goroutineID reads the running goroutine's number from its stack header
// ("goroutine 123 [running]:"); tests only.
func goroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	f := strings.Fields(string(buf))
	if len(f) < 2 {
		return ""
	}
	return f[1]
}

func newTestExecutor(t *testing.T, workers int) (*executor, *syncbuf.Buffer) {
	t.Helper()
	logs := &syncbuf.Buffer{}
	e, err := newExecutor(workers, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.stop)
	return e, logs
}

// Message handlers run one after another on the same worker, which keeps
// its grown stack, instead of a new goroutine for each message.
func TestExecutorReusesWorkers(t *testing.T) {
	e, _ := newTestExecutor(t, 64)
	ids := map[string]int{}
	for i := 0; i < 100; i++ {
		done := make(chan string)
		e.execute(func() { done <- goroutineID() })
		ids[<-done]++
	}
	if len(ids) > 2 {
		t.Fatalf("100 handlers, one at a time, ran on %d goroutines; want the same one or two", len(ids))
	}
}

// With every worker busy (a handler blocked on a slow broker, say), the
// next message still runs, and execute does not block the poller.
func TestExecutorRunsWhenAllWorkersAreBusy(t *testing.T) {
	e, _ := newTestExecutor(t, 1)
	release := make(chan struct{})
	defer close(release)
	e.execute(func() { <-release })
	ran := make(chan struct{})
	returned := make(chan struct{})
	go func() { e.execute(func() { close(ran) }); close(returned) }()
	for _, c := range []chan struct{}{returned, ran} {
		select {
		case <-c:
		case <-time.After(5 * time.Second):
			t.Fatal("a handler waited for the busy worker")
		}
	}
}

// A handler that panics is logged; the server and the next handlers go on,
// on a pooled worker and on an overflow goroutine alike.
func TestExecutorSurvivesPanics(t *testing.T) {
	e, logs := newTestExecutor(t, 1)
	e.execute(func() { panic("boom in a worker") })
	waitFor(t, func() bool { return e.pool.Running() == 0 })
	release := make(chan struct{})
	defer close(release)
	e.execute(func() { <-release }) // holds the one worker
	waitFor(t, func() bool { return e.pool.Running() == 1 })
	e.execute(func() { panic("boom alone") }) // so this runs on its own
	ran := make(chan struct{})
	e.execute(func() { close(ran) })
	<-ran
	waitFor(t, func() bool {
		s := logs.String()
		return strings.Contains(s, "boom in a worker") && strings.Contains(s, "boom alone")
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
