package pause

import (
	"os/exec"
	"testing"
)

func TestStopAndResume(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep command:", err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	pid := cmd.Process.Pid
	if err := Stop(pid); err != nil {
		t.Fatal(err)
	}
	if s, _ := State(pid); s != 'T' && s != 't' {
		t.Fatalf("state %c after Stop, want T", s)
	}
	if err := Resume(pid); err != nil {
		t.Fatal(err)
	}
	if s, _ := State(pid); s == 'T' {
		// SIGCONT is as asynchronous as SIGSTOP; the state may lag.
		t.Logf("state still T right after Resume")
	}
}
