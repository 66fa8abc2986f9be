package nats

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldrt/herald/broker"
)

// Publish implements broker.Broker.
//
// With history, it reads the channel's newest message, stores the
// publication with the next offset and the expected-last-subject-sequence
// check (so that two nodes never both get an offset: the loser reads again
// and retries), then sends it on the channel's live subject. An
// idempotency key becomes the message's Nats-Msg-Id.
//
// Without history, a publication with a key first stores the key in the
// keys stream; then, as every publication without history, it is sent on
// the live subject and the broker waits for the server to confirm it.
//
// An error wrapping broker.ErrUnavailable means NATS did not confirm
// within Options.Timeout: the publication may or may not have been made.
func (b *Broker) Publish(ctx context.Context, channel string, pub *broker.Publication, opts broker.PublishOptions) (broker.PublishResult, error) {
	if err := b.ready(); err != nil {
		return broker.PublishResult{}, err
	}
	payload, err := encodePub(pub)
	if err != nil {
		return broker.PublishResult{}, fmt.Errorf("nats: encode publication: %w", err)
	}
	ctx, cancel := b.life.OpCtx(ctx)
	defer cancel()
	tok := channelToken(channel)
	var res broker.PublishResult
	if opts.HistorySize > 0 {
		res, err = b.publishHistory(ctx, channel, tok, pub, payload, opts)
	} else {
		res, err = b.publishLive(ctx, tok, pub, payload, opts)
	}
	return res, b.fail("publish", err)
}

// publishHistory stores pub and sends it live.
func (b *Broker) publishHistory(ctx context.Context, channel, tok string, pub *broker.Publication, payload []byte, opts broker.PublishOptions) (broker.PublishResult, error) {
	l := b.pubLock(channel)
	l.Lock()
	defer l.Unlock()
	msgID := ""
	if opts.IdempotencyKey != "" {
		msgID = tok + " " + channelToken(opts.IdempotencyKey)
	}
	for attempt := 0; ; attempt++ {
		h, err := b.head(ctx, tok)
		if err != nil {
			return broker.PublishResult{}, err
		}
		offset, epoch := h.offset+1, h.epoch
		if h.epoch == "" { // no history yet, or it expired: a new epoch
			offset, epoch = 1, newEpoch()
		}
		m := storedMsg(b.names.history(tok), payload, offset, epoch, uint64(opts.HistorySize), opts.HistoryTTL)
		popts := []jetstream.PublishOpt{jetstream.WithExpectLastSequencePerSubject(h.seq), jetstream.WithRetryAttempts(0)}
		if msgID != "" {
			m.Header.Set(hdrWindow, strconv.FormatInt(b.window(opts).Milliseconds(), 10))
			popts = append(popts, jetstream.WithMsgID(msgID))
		}
		ack, err := b.js.PublishMsg(ctx, m, popts...)
		if isConflict(err) {
			// Another node took the offset: back off a little, at random,
			// so that several nodes do not collide again in step.
			if err := sleep(ctx, rand.N(time.Duration(min(attempt+1, 10))*200*time.Microsecond)); err != nil {
				return broker.PublishResult{}, err
			}
			continue
		}
		if err != nil {
			return broker.PublishResult{}, err
		}
		if ack.Duplicate {
			pos, dup, err := b.original(ctx, b.store.Load().history, ack.Sequence, true)
			if err != nil {
				return broker.PublishResult{}, err
			}
			if dup {
				return broker.PublishResult{StreamPosition: pos, Duplicate: true}, nil
			}
			// The key outlived the window its publish asked for: publish
			// under a new message ID, chained to the one that expired.
			msgID += "#" + strconv.FormatUint(ack.Sequence, 10)
			continue
		}
		if h.epoch == "" && h.seq != 0 {
			b.trimBelow(tok, ack.Sequence) // the expired epoch's messages
		} else if offset > uint64(opts.HistorySize) && offset%trimEvery(opts.HistorySize) == 0 {
			b.trimKeep(tok, uint64(opts.HistorySize))
		}
		pub.Offset = offset
		// Sent under the channel's lock, so that one node's publications
		// leave in offset order. The client queues it while reconnecting.
		if err := b.nc.Publish(b.names.live(tok), liveMsg(offset, epoch, ack.Sequence, payload)); err != nil {
			b.opts.Logger.Warn("nats broker: stored a publication but could not send it live; subscribers will fill it from history",
				"channel", channel, "offset", offset, "err", err)
		}
		return broker.PublishResult{StreamPosition: broker.StreamPosition{Offset: offset, Epoch: epoch}}, nil
	}
}

// publishLive sends a publication without history, after storing its
// idempotency key if it has one, and waits for the server to confirm it.
func (b *Broker) publishLive(ctx context.Context, tok string, pub *broker.Publication, payload []byte, opts broker.PublishOptions) (broker.PublishResult, error) {
	if opts.IdempotencyKey != "" {
		st := b.store.Load()
		msgID := tok + " " + channelToken(opts.IdempotencyKey)
		for {
			m := storedMsg(b.names.keySubject(tok), nil, 0, "-", 0, 0)
			m.Header.Set(hdrWindow, strconv.FormatInt(b.window(opts).Milliseconds(), 10))
			ack, err := b.js.PublishMsg(ctx, m, jetstream.WithMsgID(msgID), jetstream.WithRetryAttempts(0))
			if err != nil {
				return broker.PublishResult{}, err
			}
			if !ack.Duplicate {
				break
			}
			_, dup, err := b.original(ctx, st.keys, ack.Sequence, false)
			if err != nil {
				return broker.PublishResult{}, err
			}
			if dup {
				return broker.PublishResult{Duplicate: true}, nil
			}
			msgID += "#" + strconv.FormatUint(ack.Sequence, 10)
		}
	}
	pub.Offset = 0
	if err := b.nc.Publish(b.names.live(tok), liveMsg(0, "", 0, payload)); err != nil {
		return broker.PublishResult{}, err
	}
	return broker.PublishResult{}, b.nc.FlushWithContext(ctx)
}

// original reads the first publication of a duplicate key (stream
// sequence seq) and reports whether it is still within the window it was
// published with. A first publication that history no longer holds
// (trimmed) is a duplicate whose position is unknown: the zero position.
func (b *Broker) original(ctx context.Context, s jetstream.Stream, seq uint64, history bool) (broker.StreamPosition, bool, error) {
	m, err := s.GetMsg(ctx, seq)
	if err != nil {
		if isNotFound(err) {
			return broker.StreamPosition{}, true, nil
		}
		return broker.StreamPosition{}, false, err
	}
	window, _ := strconv.ParseInt(m.Header.Get(hdrWindow), 10, 64)
	if time.Since(m.Time) >= time.Duration(window)*time.Millisecond {
		return broker.StreamPosition{}, false, nil
	}
	if !history {
		return broker.StreamPosition{}, true, nil
	}
	h, err := parseHead(m)
	if err != nil {
		return broker.StreamPosition{}, false, fmt.Errorf("message %d: %w", seq, err)
	}
	return broker.StreamPosition{Offset: h.offset, Epoch: h.epoch}, true, nil
}

// window returns the idempotency window a publish asked for, within the
// longest the streams keep keys.
func (b *Broker) window(opts broker.PublishOptions) time.Duration {
	w := opts.IdempotencyWindow
	if w <= 0 {
		w = DefaultIdempotencyWindow
	}
	return min(w, b.opts.IdempotencyWindow)
}

// PublishControl implements broker.Broker: one message on the control
// subject, which every node listens to, confirmed by the server.
func (b *Broker) PublishControl(ctx context.Context, data []byte) error {
	if err := b.ready(); err != nil {
		return err
	}
	ctx, cancel := b.life.OpCtx(ctx)
	defer cancel()
	err := b.nc.Publish(b.names.control(), data)
	if err == nil {
		err = b.nc.FlushWithContext(ctx)
	}
	return b.fail("publish control", err)
}

// sendPresence is announce.Announcer's Send: one message on the
// channel's live subject, confirmed by the server.
func (b *Broker) sendPresence(ctx context.Context, channel string, msg []byte) error {
	if err := b.ready(); err != nil {
		return err
	}
	ctx, cancel := b.life.OpCtx(ctx)
	defer cancel()
	err := b.nc.Publish(b.names.live(channelToken(channel)), msg)
	if err == nil {
		err = b.nc.FlushWithContext(ctx)
	}
	return b.fail("publish presence", err)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
