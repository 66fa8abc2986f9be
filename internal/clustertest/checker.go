package clustertest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Checker records what was acknowledged and what each client's
// application received, and checks Herald's delivery promises.
type Checker struct {
	mu    sync.Mutex
	acked map[string][]int64 // channel -> sequence numbers acknowledged, in order
	// failed counts publishes that returned an error: not acknowledged,
	// so neither required nor forbidden.
	failed   int
	failures []string // the first few distinct failure messages
	clients  []*ClientRecord
}

// NewChecker returns an empty Checker.
func NewChecker() *Checker { return &Checker{acked: map[string][]int64{}} }

// Acked records that the publication seq on channel was acknowledged.
func (c *Checker) Acked(channel string, seq int64) {
	c.mu.Lock()
	c.acked[channel] = append(c.acked[channel], seq)
	c.mu.Unlock()
}

// Failed records a publish that returned err.
func (c *Checker) Failed(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failed++
	if len(c.failures) < 5 && !slices.Contains(c.failures, err.Error()) {
		c.failures = append(c.failures, err.Error())
	}
}

// Client returns a new record for one client's subscription to channel.
func (c *Checker) Client(name, channel string) *ClientRecord {
	r := &ClientRecord{name: name, channel: channel}
	c.mu.Lock()
	c.clients = append(c.clients, r)
	c.mu.Unlock()
	return r
}

// ClientRecord is what one client's application saw on one channel, in
// order: publications (by sequence number) and subscribe events.
type ClientRecord struct {
	name, channel string

	mu     sync.Mutex
	events []event
	// firstSeq is the sequence number the publisher had reached when the
	// first subscribe completed: publications from it on are required.
	firstSeq   int64
	subscribed bool
}

type event struct {
	seq        int64 // a publication; -1 for a subscribe event
	offset     uint64
	resub      bool
	recovered  bool
	recovering bool
}

// Subscribed records a subscribe event; nextSeq is the sequence number
// the publisher will use next, for the first one.
func (r *ClientRecord) Subscribed(resubscribed, recovering, recovered bool, nextSeq int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.subscribed {
		r.subscribed, r.firstSeq = true, nextSeq
	}
	r.events = append(r.events, event{seq: -1, resub: resubscribed, recovering: recovering, recovered: recovered})
}

// Received records a publication the application received.
func (r *ClientRecord) Received(seq int64, offset uint64) {
	r.mu.Lock()
	r.events = append(r.events, event{seq: seq, offset: offset})
	r.mu.Unlock()
}

// Has reports whether the client received seq.
func (r *ClientRecord) Has(seq int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.events) - 1; i >= 0; i-- {
		if r.events[i].seq == seq {
			return true
		}
	}
	return false
}

// Report is the outcome of a check.
type Report struct {
	Acknowledged int      // acknowledged publications, summed over channels
	Failed       int      // publishes that returned an error
	FailedWith   []string // the first few distinct errors
	Delivered    int      // publications received, summed over clients
	Resubscribes int      // resubscribes after a reconnect
	Recovered    int      // of which recovered every missed publication
	Reported     int      // gaps reported to the application as recovered:false
	Excused      int      // required publications inside a reported gap
	Missing      int      // required publications neither received nor excused
	Duplicates   int      // publications received twice by one client
	OutOfOrder   int      // publications received with an offset not above the previous one
	Problems     []string
}

func (r Report) String() string {
	return fmt.Sprintf("acknowledged=%d failed=%d delivered=%d resubscribes=%d recovered=%d reported_gaps=%d excused=%d missing=%d duplicates=%d out_of_order=%d",
		r.Acknowledged, r.Failed, r.Delivered, r.Resubscribes, r.Recovered, r.Reported, r.Excused, r.Missing, r.Duplicates, r.OutOfOrder)
}

// OK reports whether every promise held.
func (r Report) OK() bool { return r.Missing == 0 && r.Duplicates == 0 && r.OutOfOrder == 0 }

// Check verifies every client against the acknowledged publications.
// Required of a client: every publication acknowledged on its channel from
// its first subscribe on. Excused: those between the last one received
// before a recovered:false resubscribe and the first one received after
// it, since the application was told it may have missed them.
func (c *Checker) Check() Report {
	c.mu.Lock()
	defer c.mu.Unlock()
	rep := Report{Failed: c.failed, FailedWith: slices.Clone(c.failures)}
	for _, seqs := range c.acked {
		rep.Acknowledged += len(seqs)
	}
	for _, cl := range c.clients {
		cl.mu.Lock()
		c.checkClient(cl, &rep)
		cl.mu.Unlock()
	}
	return rep
}

func (c *Checker) checkClient(cl *ClientRecord, rep *Report) {
	got := map[int64]bool{}
	var last int64 = -1
	type gap struct{ after, before int64 } // excused: after < seq < before
	var gaps []gap
	openGap := false
	var lastOffset uint64
	resubscribed := false
	for _, e := range cl.events {
		if e.seq < 0 {
			resubscribed = true
			if e.resub {
				rep.Resubscribes++
				if e.recovered {
					rep.Recovered++
				} else {
					rep.Reported++
					gaps = append(gaps, gap{after: last, before: -1})
					openGap = true
				}
			}
			continue
		}
		rep.Delivered++
		if got[e.seq] {
			rep.Duplicates++
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s on %s: seq %d delivered twice", cl.name, cl.channel, e.seq))
		}
		got[e.seq] = true
		// Order is the channel's: offsets grow, except where a new stream
		// starts (offset 1 of a new epoch) or a resubscribe may have moved
		// to one.
		if e.offset <= lastOffset && e.offset != 1 && !resubscribed {
			rep.OutOfOrder++
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s on %s: offset %d after %d", cl.name, cl.channel, e.offset, lastOffset))
		}
		lastOffset, resubscribed = e.offset, false
		if openGap {
			gaps[len(gaps)-1].before = e.seq
			openGap = false
		}
		last = max(last, e.seq) // publications fail and may land late: gaps bound by the highest seen
	}
	excused := func(seq int64) bool {
		for _, g := range gaps {
			if seq > g.after && (g.before < 0 || seq < g.before) {
				return true
			}
		}
		return false
	}
	var missing []int64
	for _, seq := range c.acked[cl.channel] {
		if !cl.subscribed || seq < cl.firstSeq || got[seq] {
			continue
		}
		if excused(seq) {
			rep.Excused++
			continue
		}
		rep.Missing++
		missing = append(missing, seq)
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		shown := missing
		if len(shown) > 10 {
			shown = shown[:10]
		}
		rep.Problems = append(rep.Problems, fmt.Sprintf("%s on %s: %d acknowledged publications missing, first %v", cl.name, cl.channel, len(missing), shown))
	}
}

// Summary lists the problems, at most n of them.
func (r Report) Summary(n int) string {
	p := r.Problems
	if len(p) > n {
		p = append(p[:n:n], fmt.Sprintf("... and %d more", len(r.Problems)-n))
	}
	return strings.Join(p, "\n")
}
