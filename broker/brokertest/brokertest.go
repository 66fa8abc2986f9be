// Package brokertest is the conformance suite every Herald broker must pass.
// It checks the guarantees written in package broker's documentation:
// per-channel order, offsets that grow by one, stable epochs, history reads,
// binary publications kept as they were sent, idempotent publishes, control
// messages, and subscribe/unsubscribe.
//
// A broker's test calls Run with a function that returns a fresh, started-
// from-nothing broker for each subtest:
//
//	func TestConformance(t *testing.T) {
//		brokertest.Run(t, func(t *testing.T) broker.Broker { return memory.New() })
//	}
//
// A broker that carries publications between nodes (Redis, NATS) also runs
// RunCluster with two brokers on one backend, which checks that the nodes
// share delivery, offsets, history, idempotency keys, control messages and
// presence.
package brokertest

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldrt/herald/broker"
)

// NewBroker returns a new broker for one subtest; Run closes it.
type NewBroker func(t *testing.T) broker.Broker

// Run runs the whole suite.
func Run(t *testing.T, newBroker NewBroker) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b broker.Broker, h *Recorder)
	}{
		{"DeliversToSubscribedNode", testDelivers},
		{"UnsubscribeStopsDelivery", testUnsubscribe},
		{"OffsetsGrowByOne", testOffsets},
		{"ConcurrentPublishesGetDistinctOffsets", testConcurrentOffsets},
		{"OrderPerChannel", testOrder},
		{"HistoryReads", testHistory},
		{"BinaryPublications", testBinary},
		{"HistoryTrimmedBySize", testHistorySize},
		{"HistoryEpochMismatch", testHistoryEpochMismatch},
		{"HistoryExpiresWithTTL", testHistoryTTL},
		{"NoHistoryNoOffsets", testNoHistory},
		{"IdempotentPublish", testIdempotent},
		{"ControlReachesNode", testControl},
		{"JoinLeaveReachSubscribedNode", testJoinLeave},
		{"PresenceStore", testPresence},
		{"ClosedBrokerRefuses", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBroker(t)
			h := NewRecorder()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := b.Start(ctx, h); err != nil {
				t.Fatalf("Start: %v", err)
			}
			defer func() { _ = b.Close(context.Background()) }()
			tc.fn(t, b, h)
		})
	}
}

// Recorder is an EventHandler that records what it is given.
type Recorder struct {
	mu       sync.Mutex
	pubs     map[string][]*broker.Publication
	epochs   map[string]string
	controls [][]byte
	presence []string // "join:channel:client" and "leave:channel:client"
	changed  chan struct{}
	inFlight map[string]*atomic.Int32
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder {
	return &Recorder{pubs: map[string][]*broker.Publication{}, epochs: map[string]string{},
		changed: make(chan struct{}, 1), inFlight: map[string]*atomic.Int32{}}
}

// HandlePublication implements broker.EventHandler. It fails loudly (by
// recording a marker) if called concurrently for one channel.
func (r *Recorder) HandlePublication(channel string, pub *broker.Publication, epoch string) {
	r.mu.Lock()
	c := r.inFlight[channel]
	if c == nil {
		c = &atomic.Int32{}
		r.inFlight[channel] = c
	}
	r.mu.Unlock()
	if c.Add(1) > 1 {
		panic("brokertest: HandlePublication called concurrently for channel " + channel)
	}
	defer c.Add(-1)
	r.mu.Lock()
	r.pubs[channel] = append(r.pubs[channel], pub)
	r.epochs[channel] = epoch
	r.mu.Unlock()
	r.notify()
}

// HandleJoin implements broker.EventHandler.
func (r *Recorder) HandleJoin(channel string, info *broker.ClientInfo) {
	r.mu.Lock()
	r.presence = append(r.presence, "join:"+channel+":"+info.Client)
	r.mu.Unlock()
	r.notify()
}

// HandleLeave implements broker.EventHandler.
func (r *Recorder) HandleLeave(channel string, info *broker.ClientInfo) {
	r.mu.Lock()
	r.presence = append(r.presence, "leave:"+channel+":"+info.Client)
	r.mu.Unlock()
	r.notify()
}

// HandleControl implements broker.EventHandler.
func (r *Recorder) HandleControl(data []byte) {
	r.mu.Lock()
	r.controls = append(r.controls, append([]byte(nil), data...))
	r.mu.Unlock()
	r.notify()
}

func (r *Recorder) notify() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// Wait waits until cond holds (checked under the recorder's lock) or fails
// the test after timeout.
func (r *Recorder) Wait(t *testing.T, timeout time.Duration, what string, cond func(r *Recorder) bool) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		ok := cond(r)
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.changed:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// WaitPubs waits until at least n publications arrived on channel, or
// fails the test after timeout.
func (r *Recorder) WaitPubs(t *testing.T, timeout time.Duration, channel string, n int) {
	t.Helper()
	r.Wait(t, timeout, fmt.Sprintf("%d publications on %s", n, channel), func(r *Recorder) bool { return len(r.pubs[channel]) >= n })
}

// Pubs returns the publications received on channel.
func (r *Recorder) Pubs(channel string) []*broker.Publication {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*broker.Publication(nil), r.pubs[channel]...)
}

func data(i int) json.RawMessage { return json.RawMessage(`{"i":` + strconv.Itoa(i) + `}`) }

func pub(i int) *broker.Publication { return &broker.Publication{Data: data(i)} }

var withHistory = WithHistory

func mustPublish(t *testing.T, b broker.Broker, ch string, p *broker.Publication, o broker.PublishOptions) broker.PublishResult {
	t.Helper()
	res, err := b.Publish(context.Background(), ch, p, o)
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	return res
}

func channel(t *testing.T) string {
	return fmt.Sprintf("brokertest:%s:%d", t.Name(), time.Now().UnixNano())
}
