package bench

import (
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram range, in microseconds: 1 µs to 10 minutes, 3 digits.
const (
	histMin    = 1
	histMax    = 600_000_000
	histDigits = 3
	numShards  = 16
)

// newHist returns an empty latency histogram (microseconds).
func newHist() *hdr.Histogram { return hdr.New(histMin, histMax, histDigits) }

// recordUS records a latency in nanoseconds, clamped to the range.
func recordUS(h *hdr.Histogram, ns int64) {
	us := ns / 1000
	us = min(max(us, histMin), histMax)
	_ = h.RecordValue(us)
}

// shard is one slice of a worker's delivery statistics, locked together
// so that concurrent readers rarely meet.
type shard struct {
	mu         sync.Mutex
	lat        *hdr.Histogram
	deliveries int64
	unique     int64
	duplicates int64
	_          [64]byte
}

// stats holds one worker's figures.
type stats struct {
	shards      [numShards]shard
	connMu      sync.Mutex
	connLat     *hdr.Histogram
	open        atomic.Int64 // connections open now
	connects    atomic.Int64 // connects-and-subscribes that succeeded
	connFails   atomic.Int64
	pubSent     atomic.Int64
	pubAcked    atomic.Int64
	pubFailed   atomic.Int64
	dropped     atomic.Int64 // connections the server closed during the run
	errMu       sync.Mutex
	errs        map[string]int64
	errTotal    atomic.Int64
	badMessages atomic.Int64
	wireBytes   atomic.Int64 // read from the sockets after the handshakes
}

func newStats() *stats {
	s := &stats{connLat: newHist(), errs: map[string]int64{}}
	for i := range s.shards {
		s.shards[i].lat = newHist()
	}
	return s
}

// deliver records one delivery on the shard of client idx.
func (s *stats) deliver(idx int, latencyNS int64, duplicate bool) {
	sh := &s.shards[idx%numShards]
	sh.mu.Lock()
	recordUS(sh.lat, latencyNS)
	sh.deliveries++
	if duplicate {
		sh.duplicates++
	} else {
		sh.unique++
	}
	sh.mu.Unlock()
}

// connected records a successful connect-and-subscribe.
func (s *stats) connected(latencyNS int64) {
	s.connects.Add(1)
	s.connMu.Lock()
	recordUS(s.connLat, latencyNS)
	s.connMu.Unlock()
}

// totals sums the shards' counters.
func (s *stats) totals() (deliveries, unique, duplicates int64) {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		deliveries += sh.deliveries
		unique += sh.unique
		duplicates += sh.duplicates
		sh.mu.Unlock()
	}
	return
}

// latency merges the shards' histograms.
func (s *stats) latency() *hdr.Histogram {
	h := newHist()
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		h.Merge(sh.lat)
		sh.mu.Unlock()
	}
	return h
}

// maxErrorKinds bounds the distinct error messages kept.
const maxErrorKinds = 20

// fail records an error under a short category.
func (s *stats) fail(what string, err error) {
	s.errTotal.Add(1)
	key := what
	if err != nil {
		key += ": " + errorKind(err)
	}
	s.errMu.Lock()
	if _, ok := s.errs[key]; ok || len(s.errs) < maxErrorKinds {
		s.errs[key]++
	} else {
		s.errs["other"]++
	}
	s.errMu.Unlock()
}

// errorSnapshot copies the error counts.
func (s *stats) errorSnapshot() map[string]int64 {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	out := make(map[string]int64, len(s.errs))
	for k, v := range s.errs {
		out[k] = v
	}
	return out
}

// errorKind names an error without addresses or ports, so that equal
// failures share one category.
func errorKind(err error) string {
	var ce *closeError
	if errors.As(err, &ce) {
		return "closed by server with " + closeCode(err)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return "timeout"
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	msg := err.Error()
	if len(msg) > 80 {
		msg = msg[:80]
	}
	return strings.TrimSpace(msg)
}

// sparseHist is a histogram as [value, count] pairs of its non-empty
// buckets, for sending between processes.
type sparseHist [][2]int64

// toSparse encodes h.
func toSparse(h *hdr.Histogram) sparseHist {
	var out sparseHist
	for _, b := range h.Distribution() {
		if b.Count > 0 {
			out = append(out, [2]int64{b.To, b.Count})
		}
	}
	return out
}

// addTo records the pairs into h.
func (s sparseHist) addTo(h *hdr.Histogram) {
	for _, p := range s {
		_ = h.RecordValues(min(max(p[0], histMin), histMax), p[1])
	}
}
