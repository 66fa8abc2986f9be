package nats

import (
	"context"

	"github.com/heraldrt/herald/broker/internal/tracker"
)

// heads is the channels' history as the delivery tracker reads it
// (tracker.History): the head of a channel's subject, then the range
// after what was delivered, read from the stream sequence after the last
// delivered one (Position.Seq) when it is known.
type heads struct{ b *Broker }

// Head implements tracker.History.
func (s heads) Head(ctx context.Context, channel string) (tracker.Position, error) {
	h, err := s.b.head(ctx, channelToken(channel))
	return h.position(), err
}

// Read implements tracker.History. It reads no range when the head says
// there is nothing to read: no history, another epoch, or nothing after.
func (s heads) Read(ctx context.Context, channel string, after tracker.Position, upTo uint64) (tracker.Position, []tracker.Entry, error) {
	tok := channelToken(channel)
	h, err := s.b.head(ctx, tok)
	if err != nil || h.epoch == "" || after.Epoch != "" && h.epoch != after.Epoch {
		return h.position(), nil, err
	}
	if upTo == 0 || upTo > h.offset {
		upTo = h.offset
	}
	if upTo <= after.Offset {
		return h.position(), nil, nil
	}
	start := uint64(0)
	if after.Seq > 0 {
		start = after.Seq + 1
	}
	entries, err := s.b.readRange(ctx, tok, h, max(after.Offset+1, h.oldest()), upTo, start)
	if err != nil {
		return tracker.Position{}, nil, err
	}
	out := make([]tracker.Entry, len(entries))
	for i, e := range entries {
		out[i] = tracker.Entry{Pub: e.pub, Seq: e.seq}
	}
	return h.position(), out, nil
}

// position is the head as the tracker sees it.
func (h head) position() tracker.Position {
	return tracker.Position{Epoch: h.epoch, Offset: h.offset, Seq: h.seq}
}
