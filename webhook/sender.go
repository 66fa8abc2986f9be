package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// sender delivers one endpoint's events: a bounded queue that drops the
// oldest when full, drained in batches by one goroutine that retries a
// failed batch with exponential backoff until it is delivered or dropped.
type sender struct {
	ep     Endpoint
	w      *Webhooks
	signal chan struct{}

	mu      sync.Mutex
	queue   []Event
	nextSeq uint64
	dropLog time.Time // when a drop was last logged
}

// accepts reports whether the endpoint takes events called name.
func (s *sender) accepts(name string) bool {
	return len(s.ep.Events) == 0 || slices.Contains(s.ep.Events, name)
}

// enqueue adds ev, dropping the oldest event when the queue is full.
func (s *sender) enqueue(ev Event) {
	s.mu.Lock()
	s.nextSeq++
	ev.seq = s.nextSeq
	dropped := false
	if len(s.queue) >= s.w.cfg.QueueSize {
		s.queue[0] = Event{}
		s.queue = s.queue[1:]
		dropped = true
	} else {
		s.w.m.queued.Inc()
	}
	s.queue = append(s.queue, ev)
	logIt := dropped && time.Since(s.dropLog) > 10*time.Second
	if logIt {
		s.dropLog = time.Now()
	}
	s.mu.Unlock()
	s.w.m.events.WithLabelValues(ev.Name).Inc()
	if dropped {
		s.w.m.dropped.Inc()
		if logIt {
			s.w.log.Warn("webhook queue full: dropping the oldest events while the receiver does not take them (see herald_webhook_dropped_total)", "url", s.ep.URL, "queue_size", s.w.cfg.QueueSize)
		}
	}
	select {
	case s.signal <- struct{}{}:
	default:
	}
}

// peek returns up to BatchSize events from the head of the queue.
func (s *sender) peek() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.queue[:min(len(s.queue), s.w.cfg.BatchSize)])
}

// delivered removes from the queue the events up to seq (some may have
// been dropped meanwhile).
func (s *sender) delivered(seq uint64) {
	s.mu.Lock()
	n := 0
	for n < len(s.queue) && s.queue[n].seq <= seq {
		s.queue[n] = Event{}
		n++
	}
	s.queue = s.queue[n:]
	s.mu.Unlock()
	s.w.m.queued.Sub(float64(n))
}

// run delivers until ctx ends; then, until flush ends, it delivers what
// is left, without waiting between failures.
func (s *sender) run(ctx, flush context.Context) {
	backoff := s.w.cfg.MinBackoff
	for {
		batch := s.peek()
		if len(batch) == 0 {
			select {
			case <-s.signal:
				// Let a burst gather into one batch.
				select {
				case <-time.After(s.w.cfg.FlushDelay):
				case <-ctx.Done():
				}
				continue
			case <-ctx.Done():
				return
			}
		}
		active := ctx
		if ctx.Err() != nil {
			active = flush
			if flush.Err() != nil {
				return
			}
		}
		if err := s.post(active, batch); err != nil {
			s.w.m.deliveries.WithLabelValues("failed").Inc()
			s.w.log.Warn("webhook delivery failed; retrying with backoff", "url", s.ep.URL, "events", len(batch), "retry_in", backoff.String(), "error", err)
			if ctx.Err() != nil {
				return // shutting down: what is left is lost
			}
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
			}
			backoff = min(backoff*2, s.w.cfg.MaxBackoff)
			continue
		}
		s.w.m.deliveries.WithLabelValues("ok").Inc()
		backoff = s.w.cfg.MinBackoff
		s.delivered(batch[len(batch)-1].seq)
	}
}

// post sends one signed batch.
func (s *sender) post(ctx context.Context, batch []Event) error {
	body, err := json.Marshal(Batch{Events: batch})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.ep.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "herald-webhook")
	req.Header.Set(SignatureHeader, Sign([]byte(s.ep.Secret), time.Now(), body))
	resp, err := s.w.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("status %s (want 2xx)", resp.Status)
	}
	return nil
}
