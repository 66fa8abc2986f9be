package bench

import (
	"context"
	"sync"
	"time"
)

// run is a worker's life: connect its clients (churn connects in its
// loops, and storm only probes the channel's position before "go"),
// report ready, wait for "go", run the scenario until "stop" (ctx), then
// drain.
func (w *worker) run(ctx context.Context, goCh <-chan struct{}, ready func()) {
	switch w.cfg.Scenario {
	case scenarioChurn:
	case scenarioStorm:
		from, err := w.probe()
		if err != nil {
			w.st.fail("probe", err)
		}
		w.storms.from = from
	default:
		w.setup(ctx)
	}
	ready()
	select {
	case <-goCh:
	case <-ctx.Done():
		return
	}
	switch w.cfg.Scenario {
	case scenarioChat:
		w.publishLoop(ctx)
	case scenarioChurn:
		w.churn(ctx)
	case scenarioStorm:
		w.storm(ctx)
	default:
		<-ctx.Done()
	}
	if w.cfg.Scenario == scenarioFanout || w.cfg.Scenario == scenarioChat {
		w.drain()
	}
}

// setup connects and subscribes every client of the worker, Concurrency at
// a time, and starts their readers.
func (w *worker) setup(ctx context.Context) {
	idxs := make(chan int)
	var wg sync.WaitGroup
	for range min(w.cfg.Concurrency, w.spec.Count) {
		wg.Go(func() {
			for idx := range idxs {
				ch, room := w.channelOf(idx)
				c, err := w.open(idx, ch)
				if err != nil {
					w.st.connFails.Add(1)
					w.st.fail("connect", err)
					continue
				}
				c.room = room
				w.st.open.Add(1)
				if w.roomMembers != nil {
					w.roomMembers[room].Add(1)
				}
				w.mu.Lock()
				w.clients = append(w.clients, c)
				w.mu.Unlock()
				go c.read()
			}
		})
	}
feed:
	for i := w.spec.First; i < w.spec.First+w.spec.Count; i++ {
		select {
		case idxs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(idxs)
	wg.Wait()
}

// publishLoop makes the worker's clients publish, in turn, at the worker's
// share of --rate, until ctx ends.
func (w *worker) publishLoop(ctx context.Context) {
	w.mu.Lock()
	clients := append([]*client(nil), w.clients...)
	w.mu.Unlock()
	if len(clients) == 0 {
		<-ctx.Done()
		return
	}
	rate := w.cfg.Rate * float64(w.spec.Count) / float64(w.cfg.Clients)
	start := time.Now()
	var n int64
	next := 0
	for {
		due := int64(time.Since(start).Seconds() * rate)
		for ; n < due && ctx.Err() == nil; n++ {
			clients[next%len(clients)].publish(w.cfg.Size)
			next++
		}
		wait := time.Duration(float64(n+1)/rate*float64(time.Second)) - time.Since(start)
		if !sleepCtx(ctx, min(max(wait, 0), 10*time.Millisecond)) {
			return
		}
	}
}

// churn runs the worker's share of connect-subscribe-close loops until ctx
// ends, paced to the worker's share of --rate (0: unpaced).
func (w *worker) churn(ctx context.Context) {
	rate := w.cfg.Rate * float64(w.spec.Count) / float64(w.cfg.Clients)
	start := time.Now()
	var mu sync.Mutex
	slot := int64(0)
	var wg sync.WaitGroup
	for i := range w.spec.Count {
		idx := w.spec.First + i
		wg.Go(func() {
			for ctx.Err() == nil {
				if rate > 0 {
					mu.Lock()
					k := slot
					slot++
					mu.Unlock()
					due := start.Add(time.Duration(float64(k) / rate * float64(time.Second)))
					if !sleepCtx(ctx, time.Until(due)) {
						return
					}
				}
				c, err := w.open(idx, w.cfg.Channel)
				if err != nil {
					w.st.connFails.Add(1)
					w.st.fail("connect", err)
					sleepCtx(ctx, 10*time.Millisecond)
					continue
				}
				c.ws.closeGracefully(time.Second)
			}
		})
	}
	wg.Wait()
}

// drain waits, up to --drain, until deliveries and publish replies stop
// arriving for half a second.
func (w *worker) drain() {
	deadline := time.Now().Add(w.cfg.Drain)
	last, quietSince := int64(-1), time.Now()
	for time.Now().Before(deadline) {
		d, _, _ := w.st.totals()
		d += w.st.pubAcked.Load() + w.st.pubFailed.Load()
		if d != last {
			last, quietSince = d, time.Now()
		} else if time.Since(quietSince) >= 500*time.Millisecond {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sleepCtx sleeps for d or until ctx ends; it reports whether ctx is
// still live.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
