package memory

import (
	"time"

	"github.com/heraldrt/herald/broker"
)

// stream is one channel's history: a ring of the latest publications, the
// offset of the newest one, and the idempotency keys seen recently.
type stream struct {
	epoch       string
	top         uint64 // offset of the newest publication; 0 when none yet
	ring        []*broker.Publication
	head        int // index of the oldest publication in ring
	n           int // publications in ring
	ttl         time.Duration
	lastPublish time.Time
	lastAccess  time.Time

	keys     map[string]broker.StreamPosition
	keyOrder []keyExpiry // oldest first
}

type keyExpiry struct {
	key     string
	expires time.Time
}

func newStream(size int) *stream {
	return &stream{epoch: newEpoch(), ring: make([]*broker.Publication, 0, min(size, 64))}
}

// reborn returns the stream that replaces an expired one: empty, in a new
// epoch, keeping the idempotency keys that are still in their window.
func (s *stream) reborn() *stream {
	n := newStream(0)
	n.keys, n.keyOrder = s.keys, s.keyOrder
	n.lastAccess = s.lastAccess
	return n
}

// expired reports whether the stream outlived its TTL since its last
// publication: its history is then lost, and so is its epoch.
func (s *stream) expired(now time.Time) bool {
	return s.ttl > 0 && !s.lastPublish.IsZero() && now.Sub(s.lastPublish) > s.ttl
}

// append gives pub the next offset and keeps it, dropping the oldest
// publication once size are kept.
func (s *stream) append(pub *broker.Publication, size int) {
	s.top++
	pub.Offset = s.top
	if len(s.ring) < size {
		// Still growing (or the size was raised): keep the ring in order
		// from index 0 and add at the end.
		if s.head != 0 {
			s.ring, s.head = s.ordered(), 0
		}
		s.ring = append(s.ring, pub)
		s.n++
		return
	}
	if len(s.ring) > size { // the size was lowered: keep the newest size
		s.ring = s.ordered()[len(s.ring)-size:]
		s.head, s.n = 0, len(s.ring)
	}
	s.ring[s.head] = pub
	s.head = (s.head + 1) % len(s.ring)
}

// ordered returns the kept publications, oldest first.
func (s *stream) ordered() []*broker.Publication {
	out := make([]*broker.Publication, 0, s.n)
	for i := 0; i < s.n; i++ {
		out = append(out, s.ring[(s.head+i)%len(s.ring)])
	}
	return out
}

// read implements History for one stream.
func (s *stream) read(opts broker.HistoryOptions) broker.HistoryResult {
	res := broker.HistoryResult{Position: broker.StreamPosition{Offset: s.top, Epoch: s.epoch}}
	if opts.Limit == 0 || s.n == 0 {
		return res
	}
	if opts.Since != nil && opts.Since.Epoch != "" && opts.Since.Epoch != s.epoch {
		return res
	}
	all := s.ordered()
	if opts.Since != nil {
		oldest := all[0].Offset
		if opts.Reverse {
			// Publications before Since.Offset.
			end := 0
			if opts.Since.Offset > oldest {
				end = int(min(opts.Since.Offset-oldest, uint64(len(all))))
			}
			all = all[:end]
		} else {
			start := len(all)
			if opts.Since.Offset < oldest {
				start = 0
			} else if opts.Since.Offset-oldest+1 < uint64(len(all)) {
				start = int(opts.Since.Offset - oldest + 1)
			}
			all = all[start:]
		}
	}
	if opts.Reverse {
		for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
			all[i], all[j] = all[j], all[i]
		}
	}
	if opts.Limit > 0 && len(all) > opts.Limit {
		all = all[:opts.Limit]
	}
	res.Publications = all
	return res
}

// seen returns the position remembered for key, if it has not expired.
func (s *stream) seen(key string, now time.Time) (broker.StreamPosition, bool) {
	s.forget(now)
	pos, ok := s.keys[key]
	return pos, ok
}

// remember records key until expires.
func (s *stream) remember(key string, pos broker.StreamPosition, expires time.Time) {
	if s.keys == nil {
		s.keys = make(map[string]broker.StreamPosition)
	}
	s.keys[key] = pos
	s.keyOrder = append(s.keyOrder, keyExpiry{key: key, expires: expires})
}

// forget drops expired keys. Keys expire in the order they were added, as
// they all share one window per call site; a key with a shorter window than
// an older one waits for it, which only keeps it a little longer.
func (s *stream) forget(now time.Time) {
	i := 0
	for i < len(s.keyOrder) && !now.Before(s.keyOrder[i].expires) {
		delete(s.keys, s.keyOrder[i].key)
		i++
	}
	if i > 0 {
		s.keyOrder = append(s.keyOrder[:0], s.keyOrder[i:]...)
	}
}
