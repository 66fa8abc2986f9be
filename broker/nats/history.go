package nats

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldrt/herald/broker"
)

// History implements broker.Broker. It reads the channel's newest message
// (one direct get: the position), then, when publications are asked for,
// the range with a short-lived consumer filtered on the channel's subject.
// Reading a channel that has no history (never published, or expired)
// stores a position marker (offset 0, a new epoch, kept for
// Options.EmptyStreamTTL), so that the epoch a subscriber is told is still
// the channel's when the first publication arrives.
func (b *Broker) History(ctx context.Context, channel string, opts broker.HistoryOptions) (broker.HistoryResult, error) {
	if err := b.ready(); err != nil {
		return broker.HistoryResult{}, err
	}
	ctx, cancel := b.life.OpCtx(ctx)
	defer cancel()
	res, err := b.readHistory(ctx, channel, opts)
	return res, b.fail("history", err)
}

func (b *Broker) readHistory(ctx context.Context, channel string, opts broker.HistoryOptions) (broker.HistoryResult, error) {
	var res broker.HistoryResult
	tok := channelToken(channel)
	h, err := b.headOrMarker(ctx, tok)
	if err != nil {
		return res, err
	}
	res.Position = broker.StreamPosition{Offset: h.offset, Epoch: h.epoch}
	if opts.Limit == 0 || h.offset == 0 {
		return res, nil
	}
	if opts.Since != nil && opts.Since.Epoch != "" && opts.Since.Epoch != h.epoch {
		return res, nil
	}
	from, to := h.oldest(), h.offset
	if s := opts.Since; s != nil {
		if opts.Reverse {
			if s.Offset <= from {
				return res, nil
			}
			to = min(to, s.Offset-1)
		} else {
			if s.Offset == math.MaxUint64 {
				return res, nil
			}
			from = max(from, s.Offset+1)
		}
	}
	if from > to {
		return res, nil
	}
	if opts.Limit > 0 {
		if opts.Reverse {
			from = max(from, to-min(to, uint64(opts.Limit))+1)
		} else {
			to = min(to, from+uint64(opts.Limit)-1)
		}
	}
	entries, err := b.readRange(ctx, tok, h, from, to, 0)
	if err != nil {
		return res, err
	}
	res.Publications = make([]*broker.Publication, len(entries))
	for i, e := range entries {
		res.Publications[i] = e.pub
	}
	if opts.Reverse {
		slices.Reverse(res.Publications)
	}
	return res, nil
}

// head returns the channel's newest message, or a zero head when it has
// none or its history expired.
func (b *Broker) head(ctx context.Context, tok string) (head, error) {
	st := b.store.Load()
	m, err := st.history.GetLastMsgForSubject(ctx, b.names.history(tok))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return head{}, nil
	}
	if err != nil {
		return head{}, err
	}
	h, err := parseHead(m)
	if err != nil {
		return head{}, fmt.Errorf("message %d: %w", m.Sequence, err)
	}
	if h.expired(time.Now()) {
		return head{seq: h.seq}, nil // seq: what a new epoch must replace
	}
	return h, nil
}

// headOrMarker returns the channel's head, storing a position marker
// first when the channel has none, so that its epoch is fixed from now on.
func (b *Broker) headOrMarker(ctx context.Context, tok string) (head, error) {
	for {
		h, err := b.head(ctx, tok)
		if err != nil || h.epoch != "" {
			return h, err
		}
		epoch := newEpoch()
		m := storedMsg(b.names.history(tok), nil, 0, epoch, 0, b.opts.EmptyStreamTTL)
		ack, err := b.js.PublishMsg(ctx, m, jetstream.WithExpectLastSequencePerSubject(h.seq), jetstream.WithRetryAttempts(0))
		if isConflict(err) {
			continue // another node wrote first: read what it wrote
		}
		if err != nil {
			return head{}, err
		}
		if h.seq != 0 {
			b.trimBelow(tok, ack.Sequence)
		}
		return head{seq: ack.Sequence, epoch: epoch, ttl: b.opts.EmptyStreamTTL, time: time.Now()}, nil
	}
}

// isConflict reports whether a publish failed its expected-last-sequence
// check: another node published to the channel first.
func isConflict(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) &&
		(apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// entry is one publication read from history and its stream sequence.
type entry struct {
	pub *broker.Publication
	seq uint64
}

// readBatch is how many messages one pull of a history read asks for.
const readBatch = 256

// readRange returns the publications of h's epoch with offsets from..to,
// oldest first, reading the channel's subject from stream sequence start
// (its first message when 0) up to h. Missing offsets (trimmed) are left
// out. It uses an ephemeral consumer that it deletes when done without
// waiting for the answer (the server forgets it after 30 s anyway).
func (b *Broker) readRange(ctx context.Context, tok string, h head, from, to, start uint64) ([]entry, error) {
	st := b.store.Load()
	cfg := jetstream.ConsumerConfig{
		FilterSubject:     b.names.history(tok),
		DeliverPolicy:     jetstream.DeliverAllPolicy,
		AckPolicy:         jetstream.AckNonePolicy,
		InactiveThreshold: 30 * time.Second,
		MemoryStorage:     true,
		Replicas:          1,
	}
	if start > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, start
	}
	cons, err := st.history.CreateConsumer(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer func() {
		// Fire and forget: no reply is awaited.
		_ = b.nc.Publish("$JS.API.CONSUMER.DELETE."+b.names.historyStream()+"."+cons.CachedInfo().Name, nil)
	}()
	out := make([]entry, 0, min(to-from+1, readBatch))
	for {
		batch, err := cons.FetchNoWait(readBatch)
		if err != nil {
			return nil, err
		}
		n, done := 0, false
		for m := range batch.Messages() {
			n++
			meta, err := m.Metadata()
			if err != nil {
				return nil, err
			}
			if meta.Sequence.Stream >= h.seq || meta.NumPending == 0 {
				done = true
			}
			if meta.Sequence.Stream > h.seq || m.Headers().Get(hdrEpoch) != h.epoch {
				continue
			}
			offset, err := strconv.ParseUint(m.Headers().Get(hdrOffset), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("message %d: %w", meta.Sequence.Stream, errBadStored)
			}
			if offset < from || offset > to {
				if offset > to {
					done = true
				}
				continue
			}
			pub, err := decodePub(m.Data(), offset)
			if err != nil {
				return nil, fmt.Errorf("message %d: %w", meta.Sequence.Stream, err)
			}
			out = append(out, entry{pub: pub, seq: meta.Sequence.Stream})
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return nil, err
		}
		if done || n == 0 {
			return out, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}
