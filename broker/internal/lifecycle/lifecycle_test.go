package lifecycle

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/heraldrt/herald/broker"
)

// Close waits for a handler call in flight, and no call enters after it.
func TestCloseWaitsForHandlerCallsInFlight(t *testing.T) {
	l := New("test", time.Second)
	if !l.Enter() {
		t.Fatal("Enter refused before Close")
	}
	closed := make(chan struct{})
	go func() {
		l.Close()
		close(closed)
	}()
	select {
	case <-closed:
		t.Fatal("Close returned while a handler call was in flight")
	case <-time.After(50 * time.Millisecond):
	}
	l.Leave()
	<-closed
	if l.Enter() {
		t.Fatal("Enter accepted after Close")
	}
	if l.Close() {
		t.Fatal("a second Close closed again")
	}
}

// Close waits for the broker's goroutines, which end with Context.
func TestCloseWaitsForGoroutines(t *testing.T) {
	l := New("test", time.Second)
	ticks := make(chan struct{}, 100)
	l.Every(time.Millisecond, func() { ticks <- struct{}{} })
	done := false
	l.Go(func() {
		<-l.Context().Done()
		time.Sleep(20 * time.Millisecond)
		done = true
	})
	<-ticks
	l.Close()
	if !done {
		t.Fatal("Close returned before a goroutine ended")
	}
}

func TestStartOnceAndNotAfterClose(t *testing.T) {
	l := New("test", time.Second)
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	if err := l.Start(); err == nil {
		t.Fatal("second Start accepted")
	}
	l.StartFailed()
	if err := l.Start(); err != nil {
		t.Fatalf("Start after StartFailed: %v", err)
	}
	l.Close()
	if err := l.Start(); !errors.Is(err, broker.ErrClosed) {
		t.Fatalf("Start after Close: %v", err)
	}
	if err := l.Ready(); !errors.Is(err, broker.ErrClosed) {
		t.Fatalf("Ready after Close: %v", err)
	}
}

// OpCtx ends at the timeout, and at Close.
func TestOpCtx(t *testing.T) {
	l := New("test", 10*time.Millisecond)
	ctx, cancel := l.OpCtx(context.Background())
	defer cancel()
	<-ctx.Done()
	l2 := New("test", time.Hour)
	ctx2, cancel2 := l2.OpCtx(context.Background())
	defer cancel2()
	l2.Close()
	<-ctx2.Done()
}

func TestFail(t *testing.T) {
	l := New("test", time.Second)
	bad := errors.New("bad request")
	down := errors.New("connection refused")
	isRequest := func(err error) bool { return err == bad }
	if err := l.Fail("op", nil, isRequest); err != nil {
		t.Fatalf("nil became %v", err)
	}
	if err := l.Fail("op", bad, isRequest); !errors.Is(err, bad) || errors.Is(err, broker.ErrUnavailable) || err.Error() != "test: op: bad request" {
		t.Fatalf("request error: %v", err)
	}
	if err := l.Fail("op", down, isRequest); !errors.Is(err, down) || !errors.Is(err, broker.ErrUnavailable) {
		t.Fatalf("unavailable: %v", err)
	}
	l.Close()
	if err := l.Fail("op", down, isRequest); !errors.Is(err, broker.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}
