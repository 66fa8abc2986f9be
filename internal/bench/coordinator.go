package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Hidden arguments that make Main a worker. The coordinator runs its own
// executable as `<exe> bench --worker`; `herald bench` hands "--worker" to
// Main. The environment variable lets a test binary's TestMain recognize
// a worker before the testing package parses flags.
const (
	workerFlag = "--worker"
	workerEnv  = "HERALD_BENCH_WORKER"
)

// workerProc is one running worker process.
type workerProc struct {
	index   int
	clients int
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	done    chan struct{} // closed when its output ends

	last    progress
	ready   bool
	result  *workerResult
	samples []cpuSample
}

// cpuSample is a worker's CPU seconds at a moment.
type cpuSample struct {
	at  time.Time
	cpu float64
}

// coordinator runs a benchmark across worker processes.
type coordinator struct {
	cfg     config
	stderr  io.Writer
	workers []*workerProc
	msgs    chan workerMsg
	started time.Time
	phase   string
	prev    progress
	prevAt  time.Time
	tick    *time.Ticker // progress, once a second, across phases
	pub     *publisher   // fanout's publisher, once started
}

// spawn starts the worker processes and hands each its share of clients.
func (co *coordinator) spawn() error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable for workers: %w", err)
	}
	co.msgs = make(chan workerMsg, 64)
	first := 0
	for i := range co.cfg.Workers {
		n := co.cfg.Clients / co.cfg.Workers
		if i < co.cfg.Clients%co.cfg.Workers {
			n++
		}
		cmd := exec.Command(exe, "bench", workerFlag)
		cmd.Env = append(os.Environ(), workerEnv+"=1")
		cmd.Stderr = &prefixWriter{w: co.stderr, prefix: "worker " + strconv.Itoa(i) + ": "}
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return err
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("start worker: %w", err)
		}
		wp := &workerProc{index: i, clients: n, cmd: cmd, stdin: stdin, done: make(chan struct{})}
		co.workers = append(co.workers, wp)
		spec := workerSpec{Config: co.cfg, Index: i, First: first, Count: n}
		first += n
		line, _ := json.Marshal(spec)
		if _, err := stdin.Write(append(line, '\n')); err != nil {
			return fmt.Errorf("start worker %d: %w", i, err)
		}
		go co.readWorker(wp, stdout)
	}
	return nil
}

// readWorker forwards a worker's JSON lines.
func (co *coordinator) readWorker(wp *workerProc, r io.Reader) {
	defer close(wp.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		var m workerMsg
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			fmt.Fprintf(co.stderr, "worker %d: %s\n", wp.index, sc.Text())
			continue
		}
		m.Worker = wp.index
		co.msgs <- m
	}
}

// command writes a command line to every worker.
func (co *coordinator) command(cmd string) {
	for _, wp := range co.workers {
		_, _ = io.WriteString(wp.stdin, cmd+"\n")
	}
}

// handle records one worker message.
func (co *coordinator) handle(m workerMsg) {
	wp := co.workers[m.Worker]
	switch m.Type {
	case msgProgress, msgReady:
		wp.last = m.Progress
		wp.samples = append(wp.samples, cpuSample{time.Now(), m.Progress.CPU})
		if m.Type == msgReady {
			wp.ready = true
		}
	case msgResult:
		wp.result = m.Result
		if m.Result != nil {
			wp.last = m.Result.Progress
		}
	}
}

// until handles messages, printing progress once a second, until done
// reports true or the deadline passes; it reports whether done did.
func (co *coordinator) until(ctx context.Context, deadline time.Time, done func() bool) bool {
	if co.tick == nil {
		co.tick = time.NewTicker(time.Second)
	}
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for !done() {
		select {
		case m := <-co.msgs:
			co.handle(m)
		case <-co.tick.C:
			co.printProgress()
		case <-timer.C:
			return false
		case <-ctx.Done():
			return false
		case <-co.allExited():
			// Take what is left in the channel, then give up.
			for {
				select {
				case m := <-co.msgs:
					co.handle(m)
					continue
				default:
				}
				break
			}
			return done()
		}
	}
	return true
}

// allExited is closed once every worker's output has ended.
func (co *coordinator) allExited() <-chan struct{} {
	ch := make(chan struct{})
	for _, wp := range co.workers {
		select {
		case <-wp.done:
			continue
		default:
			return nil // some worker is alive: never ready
		}
	}
	close(ch)
	return ch
}

// sum adds the workers' latest progress.
func (co *coordinator) sum() progress {
	var p progress
	for _, wp := range co.workers {
		p.Open += wp.last.Open
		p.Connects += wp.last.Connects
		p.ConnFails += wp.last.ConnFails
		p.Deliveries += wp.last.Deliveries
		p.PubSent += wp.last.PubSent
		p.PubAcked += wp.last.PubAcked
		p.Errors += wp.last.Errors
	}
	if co.pub != nil {
		p.PubSent += co.pub.sent.Load()
		p.Errors += co.pub.failed.Load()
	}
	return p
}

// printProgress writes the live line to stderr.
func (co *coordinator) printProgress() {
	if co.cfg.Quiet {
		return
	}
	now := time.Now()
	p := co.sum()
	dt := now.Sub(co.prevAt).Seconds()
	if co.prevAt.IsZero() || dt <= 0 {
		dt = 1
	}
	cpu := ""
	for _, wp := range co.workers {
		if n := len(wp.samples); n >= 2 {
			a, b := wp.samples[n-2], wp.samples[n-1]
			cpu += fmt.Sprintf(" w%d:%.0f%%", wp.index, 100*(b.cpu-a.cpu)/b.at.Sub(a.at).Seconds())
		}
	}
	fmt.Fprintf(co.stderr, "%5.0fs %-6s open %d  connects/s %.0f  deliveries/s %.0f  publishes/s %.0f  errors %d  cpu%s\n",
		now.Sub(co.started).Seconds(), co.phase, p.Open,
		float64(p.Connects-co.prev.Connects)/dt, float64(p.Deliveries-co.prev.Deliveries)/dt,
		float64(p.PubSent-co.prev.PubSent)/dt, p.Errors, cpu)
	co.prev, co.prevAt = p, now
}

// finish closes the workers' input, waits for them to exit (killing any
// that take longer than wait) and reports the first failure.
func (co *coordinator) finish(wait time.Duration) error {
	if co.tick != nil {
		co.tick.Stop()
	}
	for _, wp := range co.workers {
		_ = wp.stdin.Close()
	}
	deadline := time.After(wait)
	var errs []error
	for _, wp := range co.workers {
		exited := make(chan error, 1)
		go func() {
			<-wp.done
			exited <- wp.cmd.Wait()
		}()
		select {
		case err := <-exited:
			if err != nil {
				errs = append(errs, fmt.Errorf("worker %d: %w", wp.index, err))
			}
		case <-deadline:
			_ = wp.cmd.Process.Kill()
			errs = append(errs, fmt.Errorf("worker %d did not exit in time and was killed", wp.index))
			<-exited
		}
	}
	return errors.Join(errs...)
}

// workerCPU is a worker's average and peak CPU (percent of one core)
// between from and to.
func (wp *workerProc) workerCPU(from, to time.Time) (avg, peak float64) {
	var first, last *cpuSample
	for i := range wp.samples {
		s := &wp.samples[i]
		if s.at.Before(from) || s.at.After(to.Add(time.Second)) {
			continue
		}
		if first == nil {
			first = s
		} else {
			prev := last
			if d := s.at.Sub(prev.at).Seconds(); d > 0.2 {
				peak = max(peak, 100*(s.cpu-prev.cpu)/d)
			}
		}
		last = s
	}
	if first != nil && last != first {
		avg = 100 * (last.cpu - first.cpu) / last.at.Sub(first.at).Seconds()
	}
	return avg, peak
}

// prefixWriter prefixes a worker's stderr lines.
type prefixWriter struct {
	w      io.Writer
	prefix string
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	_, err := fmt.Fprintf(p.w, "%s%s", p.prefix, b)
	return len(b), err
}

// allResults reports whether every worker has sent its result.
func (co *coordinator) allResults() bool {
	for _, wp := range co.workers {
		if wp.result == nil {
			return false
		}
	}
	return true
}

// firstErrors lists the kinds of error the workers reported.
func (co *coordinator) firstErrors() string {
	var kinds []string
	for _, wp := range co.workers {
		if wp.result == nil {
			continue
		}
		for k, n := range wp.result.Errors {
			kinds = append(kinds, fmt.Sprintf("%s (%d)", k, n))
		}
	}
	if len(kinds) == 0 {
		return "no error reported"
	}
	sort.Strings(kinds)
	return strings.Join(kinds, "; ")
}
