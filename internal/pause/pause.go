// Package pause stops and resumes a process for the fault tests that
// stall a server (SIGSTOP, then SIGCONT). Sending SIGSTOP returns before
// the kernel has stopped the process, so a request sent right after may
// still be served; Stop waits until the process is seen stopped.
package pause

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// Stop sends SIGSTOP to pid and waits, up to 5 s, until /proc shows it
// stopped.
func Stop(pid int) error {
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		return err
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		state, err := State(pid)
		if err != nil {
			return err
		}
		if state == 'T' || state == 't' {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pause: process %d still in state %c 5 s after SIGSTOP", pid, state)
		}
		time.Sleep(time.Millisecond)
	}
}

// Resume sends SIGCONT to pid.
func Resume(pid int) error { return syscall.Kill(pid, syscall.SIGCONT) }

// State returns the one-letter state of pid from /proc/PID/stat (R, S,
// T, ...).
func State(pid int) (byte, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: the state is
	// the first field after its closing parenthesis.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, fmt.Errorf("pause: unexpected /proc/%d/stat", pid)
	}
	return b[i+2], nil
}
