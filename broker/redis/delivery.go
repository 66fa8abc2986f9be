package redis

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/heraldrt/herald/broker"
)

var errDisconnected = errors.New("pub/sub connection is down")

// chanState is what the node has delivered of one subscribed channel: the
// stream's epoch ("" while the stream did not exist) and the offset of the
// last publication handed to the EventHandler. Its mutex is held while the
// handler runs, which keeps one channel's deliveries in order and never
// concurrent, whether they come from the pub/sub hook or a catch-up after
// a reconnect.
type chanState struct {
	mu    sync.Mutex
	epoch string
	last  uint64
	gone  bool // unsubscribed: deliver nothing more
}

// deliver hands one publication from pub/sub to the handler, first filling
// any gap before it from the stream. Pub/sub is at-most-once; the stream
// is not, so a lost message shows up as a jump in offsets.
func (b *Broker) deliver(ch string, st *chanState, pub *broker.Publication, epoch string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.gone {
		return
	}
	if pub.Offset == 0 { // no history: nothing to check
		b.handler.HandlePublication(ch, pub, "")
		return
	}
	if st.epoch != "" && epoch != st.epoch {
		b.lose(ch, "the stream started again in a new epoch", "old", st.epoch, "new", epoch)
		st.last = pub.Offset - 1
	}
	st.epoch = epoch
	if pub.Offset <= st.last {
		return // a catch-up delivered it already
	}
	if pub.Offset > st.last+1 {
		b.catchUp(ch, st, pub.Offset-1)
	}
	b.handler.HandlePublication(ch, pub, epoch)
	st.last = pub.Offset
}

// catchUp delivers st.last+1 .. upTo from the stream (to its top when upTo
// is 0) and reports a state loss for what the stream no longer holds.
// st.mu is held.
func (b *Broker) catchUp(ch string, st *chanState, upTo uint64) {
	opts := broker.HistoryOptions{Since: &broker.StreamPosition{Offset: st.last, Epoch: st.epoch}, Limit: -1}
	if upTo > 0 {
		opts.Limit = int(min(upTo-st.last, 1<<30))
	}
	ctx, cancel := b.opCtx(context.Background())
	res, err := b.readStream(ctx, ch, opts, false)
	cancel()
	switch {
	case err != nil:
		b.lose(ch, "history unreachable", "err", err)
		return
	case res.Position.Epoch == "":
		if st.epoch != "" {
			b.lose(ch, "the stream is gone (expired, or Redis lost its data)")
		}
		st.epoch, st.last = "", 0
		return
	case st.epoch != "" && res.Position.Epoch != st.epoch:
		b.lose(ch, "the stream started again in a new epoch", "old", st.epoch, "new", res.Position.Epoch)
		st.epoch, st.last = res.Position.Epoch, res.Position.Offset
		return
	}
	st.epoch = res.Position.Epoch
	if upTo == 0 {
		upTo = res.Position.Offset
	}
	lost := false
	for _, p := range res.Publications {
		if p.Offset <= st.last || p.Offset > upTo {
			continue
		}
		if p.Offset != st.last+1 && !lost {
			lost = true
			b.lose(ch, "history no longer holds missed publications", "from", st.last+1, "to", p.Offset-1)
		}
		b.handler.HandlePublication(ch, p, st.epoch)
		st.last = p.Offset
	}
	if st.last < upTo {
		if !lost {
			b.lose(ch, "history no longer holds missed publications", "from", st.last+1, "to", upTo)
		}
		st.last = upTo
	}
}

// resync catches every subscribed channel up with its stream after the
// pub/sub connection was replaced: whatever was published while it was
// down never reached this node.
func (b *Broker) resync() {
	b.eachChannel(func(ch string, st *chanState) {
		st.mu.Lock()
		if !st.gone {
			b.catchUp(ch, st, 0)
		}
		st.mu.Unlock()
	})
}

// eachChannel calls fn for every channel subscribed when it starts, one
// after another, until the broker closes.
func (b *Broker) eachChannel(fn func(ch string, st *chanState)) {
	b.sub.mu.Lock()
	chans := make(map[string]*chanState, len(b.sub.chans))
	for ch, st := range b.sub.chans {
		chans[ch] = st
	}
	b.sub.mu.Unlock()
	for ch, st := range chans {
		if !b.enter() {
			return
		}
		fn(ch, st)
		b.leave()
	}
}

// checkPositions runs the periodic position check until Close: see
// Options.PositionCheck.
func (b *Broker) checkPositions() {
	b.every(b.opts.PositionCheck, func() { b.eachChannel(b.checkPosition) })
}

// every calls fn every d until Close, on the caller's goroutine, which is
// one of the broker's (b.wg).
func (b *Broker) every(d time.Duration, fn func()) {
	defer b.wg.Done()
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-t.C:
		}
		fn()
	}
}

// checkPosition reads the stream's position of one channel and, when it
// is ahead of what was delivered (or in another epoch), catches up. A
// channel whose stream never existed (no history) costs one read and is
// left alone, and so is one whose position cannot be read now: the check
// never reports a loss it has not seen.
func (b *Broker) checkPosition(ch string, st *chanState) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.gone {
		return
	}
	ctx, cancel := b.opCtx(context.Background())
	res, err := b.readStream(ctx, ch, broker.HistoryOptions{}, false)
	cancel()
	if err != nil || res.Position.Epoch == "" {
		return
	}
	if res.Position.Epoch != st.epoch || res.Position.Offset > st.last {
		b.positionFixes.Add(1)
		b.catchUp(ch, st, 0)
	}
}

// lose logs a state loss and tells the handler, if it wants to know.
func (b *Broker) lose(ch, why string, args ...any) {
	b.opts.Logger.Warn("redis broker: publications lost for a channel: "+why, append([]any{"channel", ch}, args...)...)
	if h, ok := b.handler.(broker.StateLossHandler); ok {
		h.HandleStateLoss(ch)
	}
}
