//go:build unix

package cli

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/protocol"
)

// process is herald running in a child process: the test binary run as
// herald (see TestMain).
type process struct {
	cmd    *exec.Cmd
	addr   string        // where it listens
	logs   *syncBuffer   // its stderr
	exited chan struct{} // closed when it has exited
	err    error         // what Wait returned, once exited is closed
}

// startHerald runs `herald serve args...` in a child process, with JSON
// logs, and waits until it listens.
func startHerald(t *testing.T, args ...string) *process {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$", "--", "serve", "--addr=127.0.0.1:0", "--log-format=json"}, args...)...)
	cmd.Env = append(os.Environ(), runAsHerald+"=1")
	p := &process{cmd: cmd, logs: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
	})
	deadline := time.Now().Add(10 * time.Second)
	for p.addr == "" {
		for _, line := range strings.Split(p.logs.String(), "\n") {
			var l struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "listening" {
				p.addr = l.Addr
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("herald exited before listening: %v\n%s", p.err, p.logs)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("herald did not listen in time:\n%s", p.logs)
		}
	}
	return p
}

// wait waits for the process to exit and returns what Wait returned.
func (p *process) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-p.exited:
		return p.err
	case <-time.After(20 * time.Second):
		t.Fatalf("herald did not exit:\n%s", p.logs)
		return nil
	}
}

// TestMainSignals: SIGTERM shuts the server down gracefully (clients get
// 3000 with reconnect, the process exits 0), and a second signal during
// the shutdown window ends the process at once.
func TestMainSignals(t *testing.T) {
	t.Run("graceful", func(t *testing.T) {
		p := startHerald(t, "--shutdown-window=50ms")
		c := wstest.Dial(t, "ws://"+p.addr+"/ws")
		c.Connect()
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if m, err := c.NextPush("disconnect", 5*time.Second); err != nil || m.Code != protocol.CloseShutdown || !m.Reconnect {
			t.Errorf("disconnect push %+v (%v), want 3000 with reconnect", m, err)
		}
		if code := c.ExpectClose(5 * time.Second); code != protocol.CloseShutdown {
			t.Errorf("close %d, want 3000", code)
		}
		if err := p.wait(t); err != nil {
			t.Fatalf("herald exited with %v, want 0\n%s", err, p.logs)
		}
		if !strings.Contains(p.logs.String(), `"msg":"stopped"`) {
			t.Errorf("no stopped log:\n%s", p.logs)
		}
	})
	t.Run("second signal", func(t *testing.T) {
		// Two clients over a one-minute window: the second would be
		// closed half a minute after the first.
		p := startHerald(t, "--shutdown-window=1m")
		first, second := wstest.Dial(t, "ws://"+p.addr+"/ws"), wstest.Dial(t, "ws://"+p.addr+"/ws")
		first.Connect()
		second.Connect()
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		// Wait until the shutdown has begun.
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(p.logs.String(), `"msg":"shutting down"`) {
			if time.Now().After(deadline) {
				t.Fatalf("no shutdown began:\n%s", p.logs)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		err := p.wait(t)
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
			t.Fatalf("herald exited with %v, want killed by the second SIGTERM\n%s", err, p.logs)
		}
	})
}
