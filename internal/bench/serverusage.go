package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// serverWatch reads the server processes of --server-pid (one or more:
// the nodes and their broker) from /proc, and sums them into a
// ServerUsage.
type serverWatch struct {
	usage ServerUsage
	cpu0  []float64 // each process's CPU seconds at the start of the measured phase
	w0    []int64   // each one's write calls then, or -1 when they could not be read
}

// newServerWatch records each process's name and memory before the run;
// it fails when a process cannot be read (it does not exist, or is not
// ours to read).
func newServerWatch(pids []int) (*serverWatch, error) {
	s := &serverWatch{usage: ServerUsage{PID: pids[0], PIDs: pids}}
	for _, pid := range pids {
		id := strconv.Itoa(pid)
		rss, err := procRSS(id)
		if err != nil {
			return nil, fmt.Errorf("process %d: %w", pid, err)
		}
		s.usage.Processes = append(s.usage.Processes, ProcessUsage{PID: pid, Name: procName(id), RSSBeforeKiB: rss})
		s.usage.RSSBeforeKiB += rss
	}
	return s, nil
}

// start records each process's CPU time at the start of the measured phase.
func (s *serverWatch) start() {
	s.cpu0, s.w0 = s.cpu0[:0], s.w0[:0]
	for _, p := range s.usage.Processes {
		id := strconv.Itoa(p.PID)
		cpu, _ := procCPU(id)
		w, err := procWriteCalls(id)
		if err != nil {
			w = -1
		}
		s.cpu0, s.w0 = append(s.cpu0, cpu), append(s.w0, w)
	}
}

// stop reads each process's CPU time and memory at the end of the measured
// phase, elapsed seconds after start, and returns the sums. A process that
// exited in between counts what was read before it did.
func (s *serverWatch) stop(elapsed float64) *ServerUsage {
	u := s.usage
	u.Processes = append([]ProcessUsage(nil), s.usage.Processes...)
	for i := range u.Processes {
		p := &u.Processes[i]
		id := strconv.Itoa(p.PID)
		if cpu, err := procCPU(id); err == nil && i < len(s.cpu0) {
			p.CPUSeconds = cpu - s.cpu0[i]
		}
		p.CPUPercent = 100 * p.CPUSeconds / elapsed
		p.RSSAfterKiB, _ = procRSS(id)
		if w, err := procWriteCalls(id); err == nil && i < len(s.w0) && s.w0[i] >= 0 {
			p.WriteCalls = w - s.w0[i]
		}
		u.WriteCalls += p.WriteCalls
		u.CPUSeconds += p.CPUSeconds
		u.RSSAfterKiB += p.RSSAfterKiB
	}
	u.CPUPercent = 100 * u.CPUSeconds / elapsed
	return &u
}

// procName is process pid's command name, or "" when it cannot be read.
func procName(pid string) string {
	b, err := os.ReadFile("/proc/" + pid + "/comm")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
