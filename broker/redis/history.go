package redis

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/heraldrt/herald/broker"
)

// History implements broker.Broker with history.lua, which reads the
// stream's position and the range asked for in one atomic step. Reading a
// stream that does not exist creates its position (offset 0, a new epoch,
// kept for Options.EmptyStreamTTL), so that the epoch a subscriber is told
// is still the stream's when the first publication arrives.
func (b *Broker) History(ctx context.Context, channel string, opts broker.HistoryOptions) (broker.HistoryResult, error) {
	if b.life.Closed() {
		return broker.HistoryResult{}, broker.ErrClosed
	}
	ctx, cancel := b.life.OpCtx(ctx)
	defer cancel()
	res, err := b.readStream(ctx, channel, opts, true)
	return res, b.fail("history", err)
}

// readStream runs history.lua; create says whether a missing stream gets a
// position (History) or is reported with an empty epoch (gap filling, which
// must not invent streams).
func (b *Broker) readStream(ctx context.Context, channel string, opts broker.HistoryOptions, create bool) (broker.HistoryResult, error) {
	var res broker.HistoryResult
	from, to, none := idRange(opts)
	count := opts.Limit
	if none {
		count = 0
	}
	sinceEpoch := ""
	if opts.Since != nil {
		sinceEpoch = opts.Since.Epoch
	}
	createArg := "0"
	if create {
		createArg = "1"
	}
	reverse := "0"
	if opts.Reverse {
		reverse = "1"
	}
	out, err := b.scripts.history.Exec(ctx, b.client,
		[]string{b.keys.meta(channel), b.keys.stream(channel)},
		[]string{createArg, newEpoch(), strconv.FormatInt(b.opts.EmptyStreamTTL.Milliseconds(), 10),
			sinceEpoch, from, to, strconv.Itoa(count), reverse}).ToArray()
	if err != nil {
		return res, err
	}
	if len(out) != 3 {
		return res, fmt.Errorf("history script returned %d values, want 3", len(out))
	}
	if res.Position.Offset, err = out[0].AsUint64(); err != nil {
		return res, fmt.Errorf("history script: offset: %w", err)
	}
	if res.Position.Epoch, err = out[1].ToString(); err != nil {
		return res, fmt.Errorf("history script: epoch: %w", err)
	}
	entries, err := out[2].AsXRange()
	if err != nil {
		return res, fmt.Errorf("history script: entries: %w", err)
	}
	if len(entries) > 0 {
		res.Publications = make([]*broker.Publication, 0, len(entries))
	}
	for _, e := range entries {
		id, _, _ := strings.Cut(e.ID, "-")
		offset, err := strconv.ParseUint(id, 10, 64)
		if err != nil {
			return res, fmt.Errorf("history: stream entry ID %q: %w", e.ID, err)
		}
		pub, err := decodePub(e.FieldValues["d"], offset)
		if err != nil {
			return res, fmt.Errorf("history: stream entry %s: %w", e.ID, err)
		}
		res.Publications = append(res.Publications, pub)
	}
	return res, nil
}

// idRange turns HistoryOptions.Since into stream IDs: after Since.Offset
// going forward, before it in reverse. none is set when no entry can match.
func idRange(opts broker.HistoryOptions) (from, to string, none bool) {
	from, to = "-", "+"
	if opts.Since == nil {
		return from, to, false
	}
	s := opts.Since.Offset
	if opts.Reverse {
		if s <= 1 {
			return from, to, true
		}
		return from, strconv.FormatUint(s-1, 10) + "-0", false
	}
	if s == math.MaxUint64 {
		return from, to, true
	}
	return strconv.FormatUint(s+1, 10) + "-0", to, false
}
