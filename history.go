package herald

import (
	"context"
	"fmt"

	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/protocol"
)

// HistoryOptions select publications for History.
type HistoryOptions struct {
	// Since selects publications after this position (before it with
	// Reverse). Nil starts from the oldest (newest with Reverse).
	Since *protocol.StreamPosition
	// Limit caps the publications returned (default and maximum: the
	// channel's history size).
	Limit int
	// Reverse returns newest first.
	Reverse bool
}

// History returns publications kept for channel and the stream's position.
func (n *Node) History(ctx context.Context, channel string, opts HistoryOptions) (*protocol.HistoryResult, error) {
	if channel == "" {
		return nil, ErrInvalidChannel
	}
	copts, err := n.channelOptions(channel)
	if err != nil {
		return nil, err
	}
	if copts.HistorySize <= 0 {
		return nil, ErrHistoryDisabled
	}
	limit := opts.Limit
	if limit <= 0 || limit > copts.HistorySize {
		limit = copts.HistorySize
	}
	h, err := n.broker.History(ctx, channel, broker.HistoryOptions{Since: opts.Since, Limit: limit, Reverse: opts.Reverse})
	if err != nil {
		return nil, fmt.Errorf("herald: history of %q: %w", channel, err)
	}
	pubs := h.Publications
	if pubs == nil {
		pubs = []*protocol.Publication{}
	}
	return &protocol.HistoryResult{Offset: h.Position.Offset, Epoch: h.Position.Epoch, Publications: pubs}, nil
}

func (s *Session) handleHistory(ctx context.Context, cmd *protocol.Command) result {
	if cmd.Channel == "" {
		return fail(protocol.NewError(protocol.CodeBadRequest, "history needs a channel"))
	}
	if err := s.authorizeRead(ctx, cmd.Channel, actHistory, ""); err != nil {
		return fail(err)
	}
	res, err := s.node.History(ctx, cmd.Channel, HistoryOptions{Since: cmd.Since, Limit: cmd.Limit, Reverse: cmd.Reverse})
	if err != nil {
		return fail(err)
	}
	return ok(res)
}
