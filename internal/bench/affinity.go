package bench

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
)

// The reminder herald bench prints when it shares CPUs with the server it
// measures: both then steal each other's time, and the figures are not
// comparable with those of docs/benchmarks.md, taken with the server on
// one core and the generator on the other.

// cpusAllowed returns the CPUs process pid ("self" for this one) may run
// on, from Cpus_allowed_list in /proc/<pid>/status ("0-1,4").
func cpusAllowed(pid string) (map[int]bool, error) {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return nil, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return parseCPUList(strings.TrimSpace(rest))
		}
	}
	return nil, fmt.Errorf("/proc/%s/status: no Cpus_allowed_list", pid)
}

// parseCPUList parses a Linux CPU list: "0-3,6,8-9".
func parseCPUList(s string) (map[int]bool, error) {
	out := map[int]bool{}
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("cpu list %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("cpu list %q: bad range %q", s, part)
			}
		}
		for c := a; c <= b; c++ {
			out[c] = true
		}
	}
	return out, nil
}

// sharedCPUs returns the CPUs that this process and any of pids may both
// run on, sorted; nil when they are apart or the lists cannot be read.
func sharedCPUs(pids []int) []int {
	self, err := cpusAllowed("self")
	if err != nil {
		return nil
	}
	shared := map[int]bool{}
	for _, pid := range pids {
		theirs, err := cpusAllowed(strconv.Itoa(pid))
		if err != nil {
			continue
		}
		for c := range theirs {
			if self[c] {
				shared[c] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(shared))
}

// affinityReminder is the one line printed when the generator shares CPUs
// with the server, or "" when they are apart.
func affinityReminder(pids []int) string {
	shared := sharedCPUs(pids)
	if len(shared) == 0 {
		return ""
	}
	list := make([]string, len(shared))
	for i, c := range shared {
		list[i] = strconv.Itoa(c)
	}
	return fmt.Sprintf("herald bench: note: the load generator and the server share CPU %s; for figures comparable with docs/benchmarks.md pin them apart: taskset -c 0 herald ... and taskset -c 1 herald bench ...", strings.Join(list, ","))
}
