package nats

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/heraldrt/herald/broker"
)

// chanState is what the node has delivered of one subscribed channel: the
// epoch ("" while the channel had no history), the offset of the last
// publication handed to the EventHandler and its stream sequence (where a
// catch-up starts reading). Its mutex is held while the handler runs,
// which keeps one channel's deliveries in order and never concurrent,
// whether they come live or from a catch-up after a reconnect.
type chanState struct {
	mu    sync.Mutex
	epoch string
	last  uint64
	seq   uint64
	gone  bool // unsubscribed: deliver nothing more
	sub   *nats.Subscription
}

// deliver hands one live publication to the handler, first filling any
// gap before it from history. Core NATS is at-most-once; the stream is
// not, so a lost message shows up as a jump in offsets.
func (b *Broker) deliver(ch string, st *chanState, pub *broker.Publication, epoch string, seq uint64) {
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
		b.lose(ch, "the channel's history started again in a new epoch", "old", st.epoch, "new", epoch)
		st.last, st.seq = pub.Offset-1, 0
	}
	if st.epoch == "" {
		st.seq = 0 // read the new epoch from its start
	}
	st.epoch = epoch
	if pub.Offset <= st.last {
		return // a catch-up delivered it already
	}
	if pub.Offset > st.last+1 {
		b.catchUp(ch, st, pub.Offset-1)
	}
	if pub.Offset <= st.last {
		return
	}
	b.handler.HandlePublication(ch, pub, epoch)
	st.last, st.seq = pub.Offset, seq
}

// catchUp delivers st.last+1 .. upTo from history (to its newest when
// upTo is 0) and reports a state loss for what history no longer holds.
// st.mu is held.
func (b *Broker) catchUp(ch string, st *chanState, upTo uint64) {
	ctx, cancel := b.opCtx(context.Background())
	defer cancel()
	tok := channelToken(ch)
	h, err := b.head(ctx, tok)
	switch {
	case err != nil:
		b.lose(ch, "history unreachable", "err", err)
		return
	case h.epoch == "":
		if st.epoch != "" {
			b.lose(ch, "the channel's history is gone (expired, or NATS lost its data)")
		}
		st.epoch, st.last, st.seq = "", 0, 0
		return
	case st.epoch != "" && h.epoch != st.epoch:
		b.lose(ch, "the channel's history started again in a new epoch", "old", st.epoch, "new", h.epoch)
		st.epoch, st.last, st.seq = h.epoch, h.offset, h.seq
		return
	}
	st.epoch = h.epoch
	if upTo == 0 || upTo > h.offset {
		upTo = h.offset
	}
	if upTo <= st.last {
		return
	}
	from := max(st.last+1, h.oldest())
	start := uint64(0)
	if st.seq > 0 {
		start = st.seq + 1
	}
	entries, err := b.readRange(ctx, tok, h, from, upTo, start)
	if err != nil {
		b.lose(ch, "history unreachable", "err", err)
		return
	}
	lost := false
	for _, e := range entries {
		if e.pub.Offset <= st.last {
			continue
		}
		if e.pub.Offset != st.last+1 && !lost {
			lost = true
			b.lose(ch, "history no longer holds missed publications", "from", st.last+1, "to", e.pub.Offset-1)
		}
		b.handler.HandlePublication(ch, e.pub, st.epoch)
		st.last, st.seq = e.pub.Offset, e.seq
	}
	if st.last < upTo {
		if !lost {
			b.lose(ch, "history no longer holds missed publications", "from", st.last+1, "to", upTo)
		}
		st.last = upTo
	}
}

// kickResync asks runResync for a catch-up; it never blocks.
func (b *Broker) kickResync() {
	select {
	case b.resync <- struct{}{}:
	default:
	}
}

// runResync waits for reconnects (and lost streams). Each time, it makes
// sure the streams and the bucket exist (a server that restarted without
// its data lost them), then catches every subscribed channel up with its
// history: whatever was published while the connection was down never
// reached this node live.
func (b *Broker) runResync() {
	defer b.wg.Done()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-b.resync:
		}
		delay := 50 * time.Millisecond
		for {
			ctx, cancel := b.opCtx(b.ctx)
			err := b.ensureStore(ctx)
			cancel()
			if err == nil {
				break
			}
			b.opts.Logger.Warn("nats broker: JetStream not ready after reconnect", "err", err, "retry_within", delay)
			select {
			case <-b.ctx.Done():
				return
			case <-time.After(rand.N(delay) + time.Millisecond):
			}
			delay = min(2*delay, 2*time.Second)
		}
		b.catchUpAll()
	}
}

// catchUpAll catches every subscribed channel up with its history.
func (b *Broker) catchUpAll() {
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
	defer b.wg.Done()
	t := time.NewTicker(b.opts.PositionCheck)
	defer t.Stop()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-t.C:
		}
		b.eachChannel(b.checkPosition)
	}
}

// checkPosition reads the head of one channel's history and, when it is
// ahead of what was delivered (or in another epoch), catches up. A channel
// without history, or whose head cannot be read now, is left alone: the
// check never reports a loss it has not seen.
func (b *Broker) checkPosition(ch string, st *chanState) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.gone {
		return
	}
	ctx, cancel := b.opCtx(context.Background())
	h, err := b.head(ctx, channelToken(ch))
	cancel()
	if err != nil || h.epoch == "" {
		return
	}
	if h.epoch != st.epoch || h.offset > st.last {
		b.catchUp(ch, st, 0)
	}
}

// lose logs a state loss and tells the handler, if it wants to know.
func (b *Broker) lose(ch, why string, args ...any) {
	b.opts.Logger.Warn("nats broker: publications lost for a channel: "+why, append([]any{"channel", ch}, args...)...)
	if h, ok := b.handler.(broker.StateLossHandler); ok {
		h.HandleStateLoss(ch)
	}
}
