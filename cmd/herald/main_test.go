package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/protocol"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// herald builds the binary once with go build and returns its path.
func herald(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found; cannot build the binary")
	}
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "herald-bin")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(buildDir, "herald")
		out, err := exec.Command(goBin, "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			binPath = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("go build: %v\n%s", buildErr, binPath)
	}
	return binPath
}

// command returns a command running the binary without HERALD_* variables
// from the test's environment.
func command(t *testing.T, args ...string) *exec.Cmd {
	cmd := exec.Command(herald(t), args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HERALD_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	return cmd
}

func TestVersion(t *testing.T) {
	out, err := command(t, "version").Output()
	if err != nil {
		t.Fatalf("herald version: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "herald ") || !strings.HasPrefix(lines[1], "commit ") ||
		!strings.Contains(lines[2], runtime.Version()) {
		t.Errorf("herald version printed:\n%s", out)
	}
}

func TestUsageErrorExitsTwo(t *testing.T) {
	cmd := command(t, "--addr", "nowhere")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Fatalf("got %v, want exit status 2; output:\n%s", err, out)
	}
}

// server runs the binary on a free loopback port and returns the address it
// logged.
func server(t *testing.T, args ...string) (cmd *exec.Cmd, addr string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("signals")
	}
	cmd = command(t, append([]string{"--addr", "127.0.0.1:0", "--log-format", "json"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == "listening" {
				found <- m["addr"].(string)
				break
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	select {
	case addr = <-found:
	case <-time.After(20 * time.Second):
		t.Fatal("herald did not log listening")
	}
	return cmd, addr
}

func wait(t *testing.T, cmd *exec.Cmd) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		// Kill it and let this Wait finish first: the cleanup's Wait must
		// not run at the same time.
		_ = cmd.Process.Kill()
		<-done
		t.Fatal("herald did not exit")
		return nil
	}
}

// TestSIGTERM stops the real binary with SIGTERM: the client gets a
// disconnect with code 3000 and reconnect true, and the process exits 0.
func TestSIGTERM(t *testing.T) {
	cmd, addr := server(t, "--shutdown-window", "200ms")
	c := wstest.Dial(t, "ws://"+addr+"/ws")
	c.Connect()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	m, err := c.NextPush("disconnect", 5*time.Second)
	if err != nil {
		t.Fatalf("no disconnect push: %v", err)
	}
	if m.Code != protocol.CloseShutdown || !m.Reconnect {
		t.Errorf("disconnect code %d reconnect %v", m.Code, m.Reconnect)
	}
	c.ExpectClose(5 * time.Second)
	if err := wait(t, cmd); err != nil {
		t.Fatalf("herald exited with %v, want status 0", err)
	}
}

// TestSecondSignal interrupts a long shutdown: the second SIGINT ends the
// process at once.
func TestSecondSignal(t *testing.T) {
	cmd, addr := server(t, "--shutdown-window", "1m")
	first := wstest.Dial(t, "ws://"+addr+"/ws")
	first.Connect()
	second := wstest.Dial(t, "ws://"+addr+"/ws")
	second.Connect()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	// One of the two is disconnected at once, the other only after half
	// the window; the shutdown is under way.
	disconnected := make(chan struct{}, 2)
	for _, c := range []*wstest.Client{first, second} {
		go func() {
			if _, err := c.NextPush("disconnect", 10*time.Second); err == nil {
				disconnected <- struct{}{}
			}
		}()
	}
	select {
	case <-disconnected:
	case <-time.After(10 * time.Second):
		t.Fatal("no client was disconnected")
	}
	start := time.Now()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := wait(t, cmd)
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGINT {
		t.Errorf("herald exited with %v after the second signal; want it killed by SIGINT", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("herald took %v to exit after the second signal", d)
	}
}
