// Package tracker is the gap-free delivery of a distributed Herald broker
// (Redis, NATS): the live feed between nodes is at-most-once, history is
// not, so the tracker keeps, for each subscribed channel, the epoch and
// offset of the last publication handed to the EventHandler and fills
// from history whatever the live feed lost:
//
//   - a live publication after a gap is preceded by what history holds of
//     the gap (deliver.go); a duplicate is dropped;
//   - what history no longer holds, or a new epoch, is a state loss: it is
//     logged and told to a broker.StateLossHandler (loss.go);
//   - after a reconnect, and periodically (a lost last publication has no
//     successor to reveal it), every channel is compared with its history
//     and caught up (catchup.go).
//
// A broker supplies its history (History), starts and stops its live feed
// per channel (Subscribe's listen), and hands every live message to the
// channel's Channel.
package tracker

import (
	"hash/maphash"
	"log/slog"
	"sync"

	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/broker/internal/lifecycle"
)

// Config is what a Tracker needs from its broker.
type Config struct {
	// Name starts every log message: "redis broker".
	Name string
	// Service names the outside service in log messages: "Redis".
	Service string
	// History reads the channels' history.
	History History
	// Life bounds history reads (OpCtx) and lets Close wait for the
	// handler calls of catch-ups (Enter, Leave).
	Life *lifecycle.Lifecycle
	// Logger receives state losses.
	Logger *slog.Logger
}

// Tracker holds the delivery state of every channel the node subscribes
// to. Lock order: a channel's entry in locks, then mu, then a Channel's
// mu; mu is never held across a network call, a Channel's mu is held
// across history reads and handler calls.
type Tracker struct {
	cfg     Config
	handler broker.EventHandler

	seed  maphash.Seed
	locks [32]sync.Mutex // serialize Subscribe/Unsubscribe of one channel

	mu    sync.Mutex
	chans map[string]*Channel
}

// New returns a Tracker with no channel.
func New(cfg Config) *Tracker {
	return &Tracker{cfg: cfg, seed: maphash.MakeSeed(), chans: make(map[string]*Channel)}
}

// Start begins the broker's life (lifecycle.Start: it fails after Close
// or when called twice) and sets the handler that every delivery goes to.
// The broker calls it first in its Start, before anything can be
// delivered.
func (t *Tracker) Start(h broker.EventHandler) error {
	if err := t.cfg.Life.Start(); err != nil {
		return err
	}
	t.handler = h
	return nil
}

// Channel returns the state of a subscribed channel, or nil.
func (t *Tracker) Channel(name string) *Channel {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.chans[name]
}

// Channels returns the names of the subscribed channels.
func (t *Tracker) Channels() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	names := make([]string, 0, len(t.chans))
	for name := range t.chans {
		names = append(names, name)
	}
	return names
}

func (t *Tracker) lock(channel string) *sync.Mutex {
	return &t.locks[maphash.String(t.seed, channel)%uint64(len(t.locks))]
}
