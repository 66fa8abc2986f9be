package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// stormStats are a worker's storm figures.
type stormStats struct {
	from          position     // where every client recovers from
	doneNS        atomic.Int64 // since "go", when the last client subscribed
	done          atomic.Bool  // every client has subscribed or failed
	recovered     atomic.Int64 // subscribes whose reply said recovered
	recoveredPubs atomic.Int64 // publications those replies carried
	short         atomic.Int64 // replies with fewer than --missed publications
}

// stormResult is a worker's storm figures in its result.
type stormResult struct {
	Seconds       float64 `json:"seconds"`
	Recovered     int64   `json:"recovered"`
	RecoveredPubs int64   `json:"recovered_publications"`
	Short         int64   `json:"short"`
}

// probe learns the stream position of the storm's channel with a client
// that is not counted, then publishes --missed publications through it,
// which every storm client must then recover. Centrifugo names no
// position before a channel's first publication: a second probe then
// learns it after the first one's.
func (w *worker) probe() (position, error) {
	from, err := w.probeOnce(max(w.cfg.Missed, 1))
	if err == nil && from.Epoch == "" {
		from, err = w.probeOnce(w.cfg.Missed)
	}
	if err == nil && from.Epoch == "" {
		err = errors.New("no stream position: the channel needs history and recovery")
	}
	return from, err
}

// probeOnce connects and subscribes a client that is not counted, asking
// to recover so that the reply names the stream's position, publishes n
// publications and waits for their acknowledgements.
func (w *worker) probeOnce(n int) (position, error) {
	idx := w.spec.First
	ws, err := dialWS(w.dialer(idx), w.urlOf(idx), w.codec.subprotocol(), handshakeTimeout)
	if err != nil {
		return position{}, fmt.Errorf("dial: %w", err)
	}
	defer ws.closeGracefully(time.Second)
	// Recovering from nowhere: Centrifugo names the stream's position
	// only to a subscribe that asks for recovery (Herald always does).
	c := &client{w: w, idx: idx, channel: w.cfg.Channel, ws: ws, nextID: 2, storm: true, recoverFrom: &position{}}
	if err := c.handshake(); err != nil {
		return position{}, err
	}
	from := c.recovery.position
	_ = ws.conn.SetDeadline(time.Now().Add(handshakeTimeout))
	var frame, data []byte
	for i := range n {
		c.nextID++
		data = appendPayload(data[:0], -1, int64(i), time.Now().UnixNano(), w.cfg.Size)
		frame = w.codec.appendPublish(frame[:0], c.nextID, c.channel, data)
		if err := ws.writeFrame(w.codec.opcode(), frame); err != nil {
			return position{}, fmt.Errorf("publish: %w", err)
		}
	}
	for acked := 0; acked < n; {
		msg, err := ws.next()
		if err != nil {
			return position{}, fmt.Errorf("publish: %w", err)
		}
		err = w.codec.split(msg, func(line []byte) error {
			ev := w.codec.parse(line)
			if ev.kind != evReply || ev.id <= 2 {
				return nil
			}
			if ev.err != "" {
				return fmt.Errorf("publish refused: %s", ev.err)
			}
			acked++
			return nil
		})
		if err != nil {
			return position{}, err
		}
	}
	return from, nil
}

// storm opens the worker's clients, --concurrency at a time (by default
// all at once), each connecting and subscribing with recovery from the
// probed position, and records when the last one subscribed. The clients
// then stay until ctx ends.
func (w *worker) storm(ctx context.Context) {
	if w.storms.from.Epoch == "" { // the probe failed, and said why
		w.storms.done.Store(true)
		w.notify()
		<-ctx.Done()
		return
	}
	start := time.Now()
	sem := make(chan struct{}, w.cfg.Concurrency)
	var wg sync.WaitGroup
launch:
	for i := range w.spec.Count {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break launch
		}
		idx := w.spec.First + i
		wg.Go(func() {
			defer func() { <-sem }()
			from := w.storms.from
			c, err := w.openClient(&client{w: w, idx: idx, channel: w.cfg.Channel, nextID: 2, storm: true, recoverFrom: &from})
			if err != nil {
				w.st.connFails.Add(1)
				w.st.fail("connect", err)
				return
			}
			w.recordStormClient(c, time.Since(start))
			go c.read()
		})
	}
	wg.Wait()
	w.storms.done.Store(true)
	w.notify()
	<-ctx.Done()
}

// recordStormClient counts one subscribed storm client that took took.
func (w *worker) recordStormClient(c *client, took time.Duration) {
	s := &w.storms
	for {
		prev := s.doneNS.Load()
		if int64(took) <= prev || s.doneNS.CompareAndSwap(prev, int64(took)) {
			break
		}
	}
	if c.recovery.Recovered {
		s.recovered.Add(1)
	}
	n := len(c.recovery.Publications)
	s.recoveredPubs.Add(int64(n))
	if n < w.cfg.Missed {
		s.short.Add(1)
	}
	c.recovery.Publications = nil
	w.st.open.Add(1)
	w.mu.Lock()
	w.clients = append(w.clients, c)
	w.mu.Unlock()
}

// stormResult is the worker's storm figures, nil for other scenarios.
func (w *worker) stormResult() *stormResult {
	if w.cfg.Scenario != scenarioStorm {
		return nil
	}
	s := &w.storms
	return &stormResult{
		Seconds:       float64(s.doneNS.Load()) / 1e9,
		Recovered:     s.recovered.Load(),
		RecoveredPubs: s.recoveredPubs.Load(),
		Short:         s.short.Load(),
	}
}

// errNoRecovery is the storm's refusal of a codec that cannot recover.
var errNoRecovery = errors.New("storm speaks JSON only (Herald's or Centrifugo's)")

// Storm is the storm scenario's outcome: how long it took until every
// client that could had subscribed (the slowest worker's figure; workers
// start together), the handshakes per second that makes, and how the
// recoveries went.
type Storm struct {
	Seconds             float64 `json:"seconds"`
	HandshakesPerSecond float64 `json:"handshakes_per_second"`
	// Missed is --missed: the publications each client had to recover.
	Missed int `json:"missed"`
	// Recovered counts the subscribe replies that said recovered, and
	// RecoveredPublications the publications they carried; Short counts
	// the replies with fewer than Missed.
	Recovered             int64 `json:"recovered"`
	RecoveredPublications int64 `json:"recovered_publications"`
	Short                 int64 `json:"short"`
}

// mergeStorm folds the workers' storm figures into r.
func (r *Result) mergeStorm(results []*workerResult, missed int) {
	s := &Storm{Missed: missed}
	for _, wr := range results {
		if wr == nil || wr.Storm == nil {
			continue
		}
		s.Seconds = max(s.Seconds, wr.Storm.Seconds)
		s.Recovered += wr.Storm.Recovered
		s.RecoveredPublications += wr.Storm.RecoveredPubs
		s.Short += wr.Storm.Short
	}
	if s.Seconds > 0 {
		s.HandshakesPerSecond = float64(r.Connected) / s.Seconds
	}
	r.Storm = s
}

// stormOver reports whether every worker's storm has ended.
func (co *coordinator) stormOver() bool {
	for _, wp := range co.workers {
		if !wp.last.StormDone {
			return false
		}
	}
	return true
}
