package dashboard

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/heraldrt/herald"
)

const (
	// topChannels is how many channels a snapshot lists.
	topChannels = 10
	// historyWindow is how far back the charts reach, and how much history
	// a newly opened page receives.
	historyWindow = 5 * time.Minute
	// writeTimeout bounds one event write to a client that stopped reading.
	writeTimeout = 10 * time.Second
	// retryMillis is how soon the browser reconnects a dropped stream.
	retryMillis = 2000
)

// events streams snapshots to one page, in the request's goroutine, until
// the client goes away, Config.Context is done, or the node drains.
//
// The stream is: a retry hint, one "history" event (the samples of the last
// minutes, for the charts), then one "stats" event (a herald.Stats) every
// interval.
func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	if h.node.Info().Draining {
		// EventSource gives up on a non-200 answer; the page retries later.
		http.Error(w, "the node is shutting down", http.StatusServiceUnavailable)
		return
	}
	rc := http.NewResponseController(w)
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no") // no buffering in nginx
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	// A deadline left on a kept-alive connection would break its next
	// request.
	defer func() { _ = rc.SetWriteDeadline(time.Time{}) }()

	send := func(frame []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout)) // unsupported by some writers: then no deadline
		if _, err := w.Write(frame); err != nil {
			h.log.LogAttrs(r.Context(), slog.LevelDebug, "dashboard stream ended", slog.Any("error", err))
			return false
		}
		if err := rc.Flush(); err != nil {
			h.log.LogAttrs(r.Context(), slog.LevelDebug, "dashboard stream cannot flush", slog.Any("error", err))
			return false
		}
		return true
	}
	if !send(h.stats.history()) {
		return
	}
	tick := time.NewTicker(h.interval)
	defer tick.Stop()
	for {
		draining, frame := h.stats.snapshot()
		if !send(frame) || draining {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-h.done:
			return
		case <-tick.C:
		}
	}
}

// sample is what the charts keep of one snapshot. Its JSON names are those
// of herald.Stats, so the page reads both alike.
type sample struct {
	Time          time.Time `json:"time"`
	Connections   int       `json:"connections"`
	Users         int       `json:"users"`
	Channels      int       `json:"channels"`
	Subscriptions int       `json:"subscriptions"`
	MessagesIn    uint64    `json:"messages_in"`
	MessagesOut   uint64    `json:"messages_out"`
	BytesIn       uint64    `json:"bytes_in"`
	BytesOut      uint64    `json:"bytes_out"`
	Publications  uint64    `json:"publications"`
	Deliveries    uint64    `json:"deliveries"`
}

func sampleOf(st *herald.Stats) sample {
	return sample{
		Time: st.Time, Connections: st.Connections, Users: st.Users, Channels: st.Channels,
		Subscriptions: st.Subscriptions, MessagesIn: st.MessagesIn, MessagesOut: st.MessagesOut,
		BytesIn: st.BytesIn, BytesOut: st.BytesOut, Publications: st.Publications, Deliveries: st.Deliveries,
	}
}

// sampler takes the node's snapshots for every open page: pages that ask
// within half an interval share one, so the cost does not grow with the
// number of pages. It remembers the samples of the last historyWindow
// (while some page was open) for pages that open later.
type sampler struct {
	node   *herald.Node
	maxAge time.Duration
	size   int // samples kept

	mu       sync.Mutex
	at       time.Time
	frame    []byte // the latest "stats" event
	draining bool
	samples  []sample // oldest first
}

func newSampler(node *herald.Node, interval time.Duration) *sampler {
	return &sampler{
		node:   node,
		maxAge: interval / 2,
		size:   int(historyWindow/interval) + 1,
	}
}

// snapshot returns the latest "stats" event, taking a new snapshot if the
// last one is older than half an interval, and whether the node drains.
func (s *sampler) snapshot() (draining bool, frame []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.frame != nil && time.Since(s.at) < s.maxAge {
		return s.draining, s.frame
	}
	st := s.node.Stats(topChannels)
	s.frame = event("stats", st)
	s.at = time.Now()
	s.draining = st.Draining
	if len(s.samples) >= s.size {
		n := copy(s.samples, s.samples[len(s.samples)-s.size+1:])
		s.samples = s.samples[:n]
	}
	s.samples = append(s.samples, sampleOf(&st))
	return s.draining, s.frame
}

// history returns the retry hint and the "history" event: the samples
// within historyWindow.
func (s *sampler) history() []byte {
	s.mu.Lock()
	cutoff := time.Now().Add(-historyWindow)
	i := 0
	for i < len(s.samples) && s.samples[i].Time.Before(cutoff) {
		i++
	}
	samples := append([]sample{}, s.samples[i:]...)
	interval := s.maxAge * 2
	s.mu.Unlock()
	var b bytes.Buffer
	b.WriteString("retry: ")
	b.WriteString(strconv.Itoa(retryMillis))
	b.WriteString("\n\n")
	b.Write(event("history", struct {
		IntervalMillis int64    `json:"interval_ms"`
		WindowSeconds  int64    `json:"window_s"`
		Samples        []sample `json:"samples"`
	}{interval.Milliseconds(), int64(historyWindow / time.Second), samples}))
	return b.Bytes()
}

// event encodes one Server-Sent Event. JSON has no raw newlines, so the
// data is one line.
func event(name string, v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		data = []byte(`{}`) // the types above always encode
	}
	out := make([]byte, 0, len(name)+len(data)+16)
	out = append(out, "event: "...)
	out = append(out, name...)
	out = append(out, "\ndata: "...)
	out = append(out, data...)
	return append(out, "\n\n"...)
}
