package nats

import (
	"errors"

	"github.com/nats-io/nats.go/jetstream"
)

// A channel's history subject keeps more than its HistorySize between
// trims, and the messages of an expired epoch until the next one starts.
// Readers ignore both (head.oldest, the epoch check); the trimmer removes
// them in the background so that Publish does not wait for a purge.

// trimJob is one purge of a channel's history subject: keep its newest
// keep messages, or remove those below stream sequence below.
type trimJob struct {
	subject string
	keep    uint64
	below   uint64
}

// trimEvery returns how many publications pass between two trims of a
// channel with this HistorySize: a quarter of it, so that the subject
// holds at most 1.25×size messages.
func trimEvery(size int) uint64 { return uint64(max(1, size/4)) }

func (b *Broker) trimKeep(tok string, keep uint64) {
	b.queueTrim(trimJob{subject: b.names.history(tok), keep: keep})
}

func (b *Broker) trimBelow(tok string, seq uint64) {
	b.queueTrim(trimJob{subject: b.names.history(tok), below: seq})
}

// queueTrim never blocks: a dropped job is done by the channel's next one.
func (b *Broker) queueTrim(j trimJob) {
	select {
	case b.trim <- j:
	default:
	}
}

// purge does what queueTrim asked for; the trimmer goroutine (Start)
// does one purge at a time.
func (b *Broker) purge(j trimJob) {
	opts := []jetstream.StreamPurgeOpt{jetstream.WithPurgeSubject(j.subject)}
	if j.below > 0 {
		opts = append(opts, jetstream.WithPurgeSequence(j.below))
	} else {
		opts = append(opts, jetstream.WithPurgeKeep(j.keep))
	}
	ctx, cancel := b.life.OpCtx(b.life.Context())
	err := b.store.Load().history.Purge(ctx, opts...)
	cancel()
	if err != nil && b.life.Context().Err() == nil {
		b.opts.Logger.Warn("nats broker: history trim failed; the next one will catch up", "subject", j.subject, "err", err)
	}
}

// isNotFound reports whether err says a message is not in its stream.
func isNotFound(err error) bool { return errors.Is(err, jetstream.ErrMsgNotFound) }
