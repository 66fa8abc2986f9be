package nats

import (
	"math/rand/v2"
	"time"
)

// kickResync asks runResync for a catch-up; it never blocks.
func (b *Broker) kickResync() {
	select {
	case b.resync <- struct{}{}:
	default:
	}
}

// resyncOnce answers a kickResync (a reconnect, or a lost stream): it
// makes sure the streams and the bucket exist (a server that restarted
// without its data lost them), then catches every subscribed channel up
// with its history: whatever was published while the connection was down
// never reached this node live. The resync goroutine (Start) calls it.
func (b *Broker) resyncOnce(struct{}) {
	delay := 50 * time.Millisecond
	for {
		ctx, cancel := b.life.OpCtx(b.life.Context())
		err := b.ensureStore(ctx)
		cancel()
		if err == nil {
			break
		}
		b.opts.Logger.Warn("nats broker: JetStream not ready after reconnect", "err", err, "retry_within", delay)
		select {
		case <-b.life.Context().Done():
			return
		case <-time.After(rand.N(delay) + time.Millisecond):
		}
		delay = min(2*delay, 2*time.Second)
	}
	b.tracker.CatchUpAll()
}
