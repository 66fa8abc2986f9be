package clustertest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/pause"
	"github.com/heraldrt/herald/internal/syncbuf"
)

// need skips t when program is not installed, or fails it under
// HERALD_REQUIRE_SERVICES=1.
func need(t testing.TB, program string) string {
	t.Helper()
	path, err := exec.LookPath(program)
	if err == nil {
		return path
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		if p := dir + "/" + program; fileExists(p) {
			return p
		}
	}
	msg := fmt.Sprintf("%s is not installed (apt-get install %s)", program, program)
	if os.Getenv("HERALD_REQUIRE_SERVICES") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on now.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Process is a program the test started, with its output kept for the
// failure message.
type Process struct {
	name string
	args []string
	dir  string   // where it runs ("": the test's directory)
	env  []string // added to the test's environment
	out  *syncbuf.Buffer

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// startProcess starts name with args; the test's cleanup kills it.
func startProcess(t testing.TB, name string, args ...string) *Process {
	t.Helper()
	return startProcessIn(t, &Process{name: name, args: args})
}

// startProcessIn starts p (its name, args, dir and env set); the test's
// cleanup kills it.
func startProcessIn(t testing.TB, p *Process) *Process {
	t.Helper()
	p.out = &syncbuf.Buffer{}
	name, args := p.name, p.args
	if err := p.start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("output of %s %v:\n%s", name, args, tail(p.out.String(), 4000))
		}
	})
	return p
}

func (p *Process) start() error {
	cmd := exec.Command(p.name, p.args...)
	cmd.Dir = p.dir
	if p.env != nil {
		cmd.Env = append(os.Environ(), p.env...)
	}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	// A group of its own, so that signals reach the children it forks
	// (nginx's workers) too, and none outlives the test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Output pipes held open by a straggler must not block Wait.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	return nil
}

// Restart starts the process again with the same arguments, after it
// ended.
func (p *Process) Restart(t testing.TB) {
	t.Helper()
	if err := p.start(); err != nil {
		t.Fatalf("restart %s: %v", p.name, err)
	}
}

// Signal sends sig to the process and the children it forked.
func (p *Process) Signal(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil && p.cmd.Process != nil {
		_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	}
}

// Pause stops the process (SIGSTOP) and waits until it is stopped.
func (p *Process) Pause(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	pid := p.cmd.Process.Pid
	p.mu.Unlock()
	if err := pause.Stop(pid); err != nil {
		t.Fatal(err)
	}
}

// Kill ends the process with SIGKILL (kill -9) and waits for it. It also
// resumes a stopped process first, so that it can die.
func (p *Process) Kill() {
	p.Signal(syscall.SIGCONT)
	p.Signal(syscall.SIGKILL)
	p.Wait(10 * time.Second)
}

// Stop asks the process to end (SIGTERM) and waits up to timeout.
func (p *Process) Stop(timeout time.Duration) bool {
	p.Signal(syscall.SIGTERM)
	return p.Wait(timeout)
}

// Wait waits up to timeout for the process to end.
func (p *Process) Wait(timeout time.Duration) bool {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	if done == nil {
		return true
	}
	select {
	case <-done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// Output returns what the process printed so far.
func (p *Process) Output() string { return p.out.String() }

// waitListening waits until something accepts TCP connections on port.
func waitListening(t testing.TB, port int, p *Process, timeout time.Duration) {
	t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not listen on %s within %v; output:\n%s", p.name, addr, timeout, tail(p.Output(), 4000))
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "...\n" + s[len(s)-n:]
}
