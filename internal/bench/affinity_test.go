package bench

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

func TestParseCPUList(t *testing.T) {
	got, err := parseCPUList("0-2,5,7-8")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []int{0, 1, 2, 5, 7, 8} {
		if !got[c] {
			t.Errorf("cpu %d missing from %v", c, got)
		}
	}
	if len(got) != 6 {
		t.Errorf("parsed %v", got)
	}
	for _, bad := range []string{"x", "3-1", "1-y"} {
		if _, err := parseCPUList(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// TestAffinityReminder: a server on the generator's CPUs gets the
// reminder; one pinned to a CPU the generator may not use does not.
func TestAffinityReminder(t *testing.T) {
	self, err := cpusAllowed("self")
	if err != nil {
		t.Skip("no /proc:", err)
	}
	if note := affinityReminder([]int{os.Getpid()}); !strings.Contains(note, "taskset -c 0") {
		t.Errorf("sharing CPUs with itself: %q, want the reminder", note)
	}
	if len(self) < 2 {
		t.Skip("one CPU: nothing can be apart")
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		t.Skip("no taskset")
	}
	// A process pinned to one CPU, and this test pinned to the others.
	other := -1
	for c := range self {
		other = max(other, c)
	}
	cmd := exec.Command("taskset", "-c", strconv.Itoa(other), "sleep", "10")
	if err := cmd.Start(); err != nil {
		t.Skip(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var mine []string
	for c := range self {
		if c != other {
			mine = append(mine, strconv.Itoa(c))
		}
	}
	pin := exec.Command("taskset", "-pc", strings.Join(mine, ","), strconv.Itoa(os.Getpid()))
	if out, err := pin.CombinedOutput(); err != nil {
		t.Skipf("taskset -p: %v %s", err, out)
	}
	defer func() {
		var all []string
		for c := range self {
			all = append(all, strconv.Itoa(c))
		}
		_ = exec.Command("taskset", "-pc", strings.Join(all, ","), strconv.Itoa(os.Getpid())).Run()
	}()
	if note := affinityReminder([]int{cmd.Process.Pid}); note != "" {
		t.Errorf("apart: %q, want no reminder", note)
	}
}
