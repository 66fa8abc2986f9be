package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// worker runs one share of the clients inside a worker process.
type worker struct {
	cfg     config
	spec    workerSpec
	urls    []*url.URL // client idx dials urls[idx%len(urls)]
	codec   codec
	dialers []*net.Dialer
	st      *stats

	stopping atomic.Bool

	mu      sync.Mutex
	clients []*client

	roomMembers []atomic.Int64 // chat
	roomAcked   []atomic.Int64 // chat

	recovering recoveringCodec // storm
	storms     stormStats      // storm
	notify     func()          // sends a progress line now
}

// runWorker is a worker process: it reads its spec and commands from in and
// writes JSON lines to out.
func runWorker(in io.Reader, out io.Writer) error {
	r := bufio.NewReader(in)
	line, err := r.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("worker: read spec: %w", err)
	}
	var spec workerSpec
	if err := json.Unmarshal(line, &spec); err != nil {
		return fmt.Errorf("worker: bad spec: %w", err)
	}
	w, err := newWorker(spec)
	if err != nil {
		return err
	}
	enc := &lineWriter{enc: json.NewEncoder(out)}
	if dir := spec.Config.Profile; dir != "" {
		f, err := os.Create(filepath.Join(dir, "worker-"+strconv.Itoa(spec.Index)+".pprof"))
		if err != nil {
			return fmt.Errorf("worker: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("worker: %w", err)
		}
		defer pprof.StopCPUProfile()
	}

	// Commands: "go" starts the measured phase, "stop" (or the end of
	// standard input, when the coordinator is gone) ends it.
	goCh, stopCh := make(chan struct{}), make(chan struct{})
	go func() {
		sentGo := false
		for {
			l, err := r.ReadString('\n')
			if l == "go\n" && !sentGo {
				sentGo = true
				close(goCh)
			}
			if l == "stop\n" || err != nil {
				close(stopCh)
				return
			}
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-stopCh:
			cancel()
		case <-ctx.Done():
		}
	}()

	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				enc.send(workerMsg{Type: msgProgress, Worker: spec.Index, Progress: w.progress()})
			case <-ctx.Done():
				return
			}
		}
	}()

	w.notify = func() { enc.send(workerMsg{Type: msgProgress, Worker: spec.Index, Progress: w.progress()}) }
	w.run(ctx, goCh, func() {
		enc.send(workerMsg{Type: msgReady, Worker: spec.Index, Progress: w.progress()})
	})
	cancel()
	<-progressDone
	enc.send(workerMsg{Type: msgResult, Worker: spec.Index, Result: w.result()})
	w.closeAll()
	return nil
}

// lineWriter serializes JSON lines.
type lineWriter struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func (l *lineWriter) send(m workerMsg) {
	l.mu.Lock()
	_ = l.enc.Encode(m)
	l.mu.Unlock()
}

// newWorker prepares a worker for spec.
func newWorker(spec workerSpec) (*worker, error) {
	cfg := spec.Config
	w := &worker{cfg: cfg, spec: spec, codec: newCodec(cfg.Target, cfg.Encoding), st: newStats()}
	for _, raw := range cfg.URLs {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, err
		}
		// Checked again here, as the coordinator did, under the same
		// --allow-remote.
		if err := cfg.checkTarget(u.Host); err != nil {
			return nil, err
		}
		w.urls = append(w.urls, u)
	}
	if len(w.urls) == 0 {
		return nil, errors.New("worker: no URL to dial")
	}
	for _, ip := range cfg.SourceIPs {
		a, err := net.ResolveTCPAddr("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			return nil, err
		}
		w.dialers = append(w.dialers, &net.Dialer{Timeout: handshakeTimeout, KeepAlive: -1, LocalAddr: a, Control: bindNoPort})
	}
	if len(w.dialers) == 0 {
		// No TCP keep-alive: a load test's connections end within the
		// run, and the probes' setup is four system calls per connection
		// that churn would pay for nothing.
		w.dialers = []*net.Dialer{{Timeout: handshakeTimeout, KeepAlive: -1}}
	}
	if cfg.Scenario == scenarioStorm {
		var ok bool
		if w.recovering, ok = w.codec.(recoveringCodec); !ok {
			return nil, errNoRecovery
		}
	}
	if cfg.Scenario == scenarioChat {
		w.roomMembers = make([]atomic.Int64, cfg.Rooms)
		w.roomAcked = make([]atomic.Int64, cfg.Rooms)
	}
	return w, nil
}

// dialer is the dialer of client idx (its source address).
func (w *worker) dialer(idx int) *net.Dialer { return w.dialers[idx%len(w.dialers)] }

// urlOf is the server client idx dials: the URLs of --url in turn, by the
// client's global index, so that the split does not depend on --workers.
func (w *worker) urlOf(idx int) *url.URL { return w.urls[idx%len(w.urls)] }

// progress snapshots the running totals.
func (w *worker) progress() progress {
	d, _, _ := w.st.totals()
	cpu, _ := procCPU("self")
	return progress{
		Open:       w.st.open.Load(),
		Connects:   w.st.connects.Load(),
		ConnFails:  w.st.connFails.Load(),
		Deliveries: d,
		PubSent:    w.st.pubSent.Load(),
		PubAcked:   w.st.pubAcked.Load(),
		Errors:     w.st.errTotal.Load(),
		CPU:        cpu,
		StormDone:  w.storms.done.Load(),
	}
}

// result collects the final figures.
func (w *worker) result() *workerResult {
	_, unique, dups := w.st.totals()
	w.st.connMu.Lock()
	connLat := toSparse(w.st.connLat)
	w.st.connMu.Unlock()
	r := &workerResult{
		Progress:    w.progress(),
		Unique:      unique,
		Duplicates:  dups,
		PubFailed:   w.st.pubFailed.Load(),
		Dropped:     w.st.dropped.Load(),
		BadMessages: w.st.badMessages.Load(),
		WireBytes:   w.st.wireBytes.Load(),
		Latency:     toSparse(w.st.latency()),
		ConnLatency: connLat,
		Errors:      w.st.errorSnapshot(),
		Storm:       w.stormResult(),
	}
	r.RSSKiB, _ = procRSS("self")
	for i := range w.roomMembers {
		r.RoomMembers = append(r.RoomMembers, w.roomMembers[i].Load())
		r.RoomAcked = append(r.RoomAcked, w.roomAcked[i].Load())
	}
	return r
}

// channelOf is the channel client idx subscribes to.
func (w *worker) channelOf(idx int) (string, int) {
	if w.cfg.Scenario == scenarioChat {
		room := idx % w.cfg.Rooms
		return w.cfg.Channel + ".room." + strconv.Itoa(room), room
	}
	return w.cfg.Channel, 0
}

// closeAll drops every connection.
func (w *worker) closeAll() {
	w.stopping.Store(true)
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range w.clients {
		c.ws.closeNow()
	}
}
