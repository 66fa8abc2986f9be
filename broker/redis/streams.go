package redis

import (
	"context"

	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/broker/internal/tracker"
)

// streams is the channels' Redis streams as the delivery tracker reads
// them (tracker.History): history.lua without creating a stream's
// position, so that gap filling never invents streams.
type streams struct{ b *Broker }

// Head implements tracker.History.
func (s streams) Head(ctx context.Context, channel string) (tracker.Position, error) {
	res, err := s.b.readStream(ctx, channel, broker.HistoryOptions{}, false)
	return tracker.Position{Epoch: res.Position.Epoch, Offset: res.Position.Offset}, err
}

// Read implements tracker.History in one atomic read: the stream's
// position and what follows after, in after's epoch.
func (s streams) Read(ctx context.Context, channel string, after tracker.Position, upTo uint64) (tracker.Position, []tracker.Entry, error) {
	opts := broker.HistoryOptions{Since: &broker.StreamPosition{Offset: after.Offset, Epoch: after.Epoch}, Limit: -1}
	if upTo > 0 {
		opts.Limit = int(min(upTo-min(upTo, after.Offset), 1<<30))
	}
	res, err := s.b.readStream(ctx, channel, opts, false)
	if err != nil {
		return tracker.Position{}, nil, err
	}
	entries := make([]tracker.Entry, len(res.Publications))
	for i, p := range res.Publications {
		entries[i] = tracker.Entry{Pub: p}
	}
	return tracker.Position{Epoch: res.Position.Epoch, Offset: res.Position.Offset}, entries, nil
}
