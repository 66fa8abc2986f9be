package clustertest

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/syncbuf"
)

// TestHAProxyAsDocumented: the HAProxy configuration of docs/deployment.md
// in front of three nodes on one Redis: every client gets every
// publication made through any node.
func TestHAProxyAsDocumented(t *testing.T) {
	redis := StartBroker(t, "redis")
	var nodes []*Node
	for i := range 3 {
		nodes = append(nodes, StartNode(t, fmt.Sprintf("node-%d", i+1), redis.URL()))
	}
	lb := StartHAProxy(t, nodes)
	load := NewLoad(nodes)
	load.Subscribe(t, lb.WSURL(), 4, channels)
	load.Publish(channels, 20*time.Millisecond)
	time.Sleep(time.Second)
	rep := load.Stop(10 * time.Second)
	t.Logf("counts: %v", rep)
	if !rep.OK() || rep.Delivered == 0 {
		t.Errorf("through HAProxy: %v\n%s", rep, rep.Summary(10))
	}
}

// TestSystemdUnitAsDocumented runs the systemd unit of docs/deployment.md
// as systemd would: its ExecStart (with the binary under test and a free
// port) in its Environment, and checks that the node comes up joined to
// the broker and stops cleanly on the unit's KillSignal.
func TestSystemdUnitAsDocumented(t *testing.T) {
	redis := StartBroker(t, "redis")
	unit := docBlock(t, "ini")
	var execStart []string
	env := os.Environ()
	for _, line := range strings.Split(unit, "\n") {
		key, value, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || strings.HasPrefix(key, "#") {
			continue
		}
		switch key {
		case "ExecStart":
			execStart = strings.Fields(value)
		case "Environment":
			env = append(env, value)
		case "KillSignal":
			if value != "SIGTERM" {
				t.Errorf("KillSignal=%s: herald drains on SIGTERM", value)
			}
		}
	}
	if len(execStart) == 0 || execStart[0] != "/usr/local/bin/herald" {
		t.Fatalf("no ExecStart=/usr/local/bin/herald ... in the unit: %q", execStart)
	}
	port := FreePort(t)
	args := strings.Fields(strings.NewReplacer(
		"127.0.0.1:8081", fmt.Sprintf("127.0.0.1:%d", port),
		"redis://127.0.0.1:6379/0", redis.URL(),
	).Replace(strings.Join(execStart[1:], " ")))
	cmd := exec.Command(heraldBinary(t), args...)
	cmd.Env = env
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer cmd.Process.Kill()
	n := &Node{Name: "systemd", Port: port, proc: &Process{name: "herald", out: out}}
	n.waitReady(t, 20*time.Second)
	if !strings.Contains(out.String(), "redis://") {
		t.Errorf("the startup log does not name the broker:\n%s", out)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("herald exited with %v after SIGTERM:\n%s", err, out)
		}
	case <-time.After(30 * time.Second): // the unit's TimeoutStopSec
		t.Fatalf("herald did not stop within TimeoutStopSec:\n%s", out)
	}
}

// TestSysctlKeysExist: every key of the doc's sysctl block names a setting
// of this kernel (a typo would be silently ignored by sysctl --system).
func TestSysctlKeysExist(t *testing.T) {
	for _, line := range strings.Split(docBlock(t, "sysctl"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, _, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("not key = value: %q", line)
			continue
		}
		path := "/proc/sys/" + strings.ReplaceAll(strings.TrimSpace(key), ".", "/")
		if _, err := os.Stat(path); err != nil {
			t.Errorf("sysctl %s: %v", strings.TrimSpace(key), err)
		}
	}
}
