package herald

import (
	"context"

	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/protocol"
)

// subscribeRequest is one subscription to make: from a client's subscribe
// command, or on the server's initiative (at connect, or through the API).
type subscribeRequest struct {
	channel   string
	recover   bool
	since     protocol.StreamPosition
	joinLeave bool // the client asked for join and leave pushes
	server    bool // made by the server: join and leave pushes whenever the namespace sends them
	byToken   bool // authorized with a channel token
}

func (s *Session) handleSubscribe(ctx context.Context, cmd *protocol.Command) result {
	if cmd.Channel == "" {
		return fail(protocol.NewError(protocol.CodeBadRequest, "subscribe needs a channel"))
	}
	// Check before authorizing, so that a refused subscribe costs no token
	// verification and no handler call; subscribe checks again, atomically.
	s.mu.Lock()
	_, err := s.checkSubscribableLocked(cmd.Channel)
	s.mu.Unlock()
	if err != nil {
		return fail(err)
	}
	if err := s.authorizeRead(ctx, cmd.Channel, actSubscribe, cmd.Token); err != nil {
		return fail(err)
	}
	sub, res, err := s.subscribe(ctx, subscribeRequest{
		channel: cmd.Channel, recover: cmd.Recover, byToken: cmd.Token != "",
		since:     protocol.StreamPosition{Offset: cmd.Offset, Epoch: cmd.Epoch},
		joinLeave: cmd.Presence,
	})
	if err != nil {
		return fail(err)
	}
	s.goLive([]*subscription{sub}, []*protocol.SubscribeResult{res}, func() []byte {
		return s.encodeReply(cmd.ID, ok(res))
	})
	return replied
}

// subscribe registers a not-yet-live subscription with the hub, reads the
// channel's stream (recovering what the client missed, when it asks), and
// records presence. Publications that arrive meanwhile wait in the
// subscription until goLive.
func (s *Session) subscribe(ctx context.Context, req subscribeRequest) (*subscription, *protocol.SubscribeResult, error) {
	n := s.node
	s.mu.Lock()
	opts, err := s.checkSubscribableLocked(req.channel)
	if err != nil {
		s.mu.Unlock()
		return nil, nil, err
	}
	sub := &subscription{session: s, name: n.hub.intern(req.channel), joinLeave: (req.joinLeave || req.server) && opts.JoinLeave,
		presence: opts.Presence, byToken: req.byToken}
	s.subs.add(sub)
	s.mu.Unlock()

	undo := func(err error) (*subscription, *protocol.SubscribeResult, error) {
		s.mu.Lock()
		s.subs.remove(req.channel)
		s.mu.Unlock()
		return nil, nil, err
	}
	if err := n.hub.add(ctx, sub); err != nil {
		return undo(err)
	}
	res, err := n.streamPosition(ctx, req, opts)
	if err != nil {
		n.hub.remove(ctx, sub)
		return undo(err)
	}
	if opts.Presence {
		n.join(ctx, req.channel, s.clientInfo(), opts)
	}
	n.notify(Activity{Kind: ActivitySubscribed, Session: s, Channel: req.channel, Presence: opts.Presence})
	return sub, res, nil
}

// checkSubscribableLocked returns the options of channel, or why the
// session cannot subscribe to it: a bad name or unknown namespace, a
// closing session, a subscription it already has, or the limit of
// subscriptions per connection. s.mu is held.
func (s *Session) checkSubscribableLocked(channel string) (ChannelOptions, error) {
	opts, err := s.node.channelOptions(channel)
	switch {
	case err != nil:
		return ChannelOptions{}, err
	case s.closing:
		return ChannelOptions{}, ErrNodeClosed
	case s.subs.get(channel) != nil:
		return ChannelOptions{}, ErrAlreadySubscribed
	}
	if limit := s.node.cfg.Limits.MaxChannelsPerConnection; limit > 0 && len(s.subs) >= limit {
		return ChannelOptions{}, ErrTooManyChannels
	}
	return opts, nil
}

// streamPosition answers the stream part of a subscribe: the position, and
// with recovery the publications the client missed, or recovered:false
// when they cannot all be had (another epoch, trimmed history, more than
// MaxRecover missed).
func (n *Node) streamPosition(ctx context.Context, req subscribeRequest, opts ChannelOptions) (*protocol.SubscribeResult, error) {
	res := &protocol.SubscribeResult{}
	if opts.HistorySize <= 0 {
		return res, nil
	}
	res.Recoverable = !opts.NoRecover
	recovering := req.recover && res.Recoverable && req.since.Epoch != ""
	hopts := broker.HistoryOptions{}
	if recovering {
		// One more than allowed tells "too many" from "exactly enough".
		hopts = broker.HistoryOptions{Since: &req.since, Limit: opts.MaxRecover + 1}
	}
	h, err := n.broker.History(ctx, req.channel, hopts)
	if err != nil {
		return nil, err
	}
	res.Offset, res.Epoch = h.Position.Offset, h.Position.Epoch
	if !recovering {
		return res, nil
	}
	pubs := h.Publications
	defer func() {
		outcome := "failed"
		if res.Recovered {
			outcome = "recovered"
		}
		n.metrics.recoveries.WithLabelValues(outcome).Inc()
	}()
	switch {
	case h.Position.Epoch != req.since.Epoch:
		// The stream the client knew is gone.
	case req.since.Offset == h.Position.Offset:
		res.Recovered = true // missed nothing
	case req.since.Offset > h.Position.Offset:
		// The client claims a future offset: it cannot be trusted.
	case len(pubs) == 0 || pubs[0].Offset != req.since.Offset+1:
		// History no longer reaches back to the client's offset.
	case len(pubs) > opts.MaxRecover:
		// Too many missed for one recovery.
	default:
		res.Recovered = true
		res.Publications = pubs
		res.Offset = pubs[len(pubs)-1].Offset
	}
	return res, nil
}

// goLive queues the reply that encode builds, then the publications that
// arrived while the subscriptions were being set up, and lets later ones go
// straight to the queue. Everything happens under s.mu, so no publication
// can overtake the reply. Each result's position is made consistent with
// what follows it:
//   - after a recovery, held publications the reply already covers (at or
//     below its offset) are dropped, so none arrives twice;
//   - otherwise the reply's offset is lowered to just before the first held
//     publication, so the client takes that one as new.
func (s *Session) goLive(subs []*subscription, results []*protocol.SubscribeResult, encode func() []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, sub := range subs {
		res := results[i]
		first := firstOffset(sub.held())
		if first == 0 {
			continue // nothing held, or only join/leave pushes
		}
		if res.Recovered {
			keep := (*sub.pending)[:0]
			for _, p := range *sub.pending {
				if p.offset > res.Offset || p.offset == 0 {
					keep = append(keep, p)
				} else {
					s.queued -= len(p.data)
				}
			}
			*sub.pending = keep
		} else if first <= res.Offset {
			res.Offset = first - 1
		}
	}
	s.pushLocked(encode())
	for _, sub := range subs {
		pending := sub.held()
		sub.pending = nil
		sub.live = true
		for _, p := range pending {
			s.queued -= len(p.data)
			s.pushLocked(p.data)
		}
	}
}

// firstOffset returns the offset of the first held publication, or 0.
func firstOffset(pending []pendingPub) uint64 {
	for _, p := range pending {
		if p.offset > 0 {
			return p.offset
		}
	}
	return 0
}

func (s *Session) handleUnsubscribe(ctx context.Context, cmd *protocol.Command) result {
	if cmd.Channel == "" {
		return fail(protocol.NewError(protocol.CodeBadRequest, "unsubscribe needs a channel"))
	}
	s.unsubscribe(ctx, cmd.Channel)
	return ok(protocol.Empty{})
}

// unsubscribe removes the session's subscription to channel, if any, and
// reports whether there was one.
func (s *Session) unsubscribe(ctx context.Context, channel string) bool {
	s.mu.Lock()
	sub := s.subs.remove(channel)
	s.mu.Unlock()
	if sub == nil {
		return false
	}
	s.node.dropSubscription(ctx, sub)
	return true
}

// dropSubscription takes sub out of the hub and out of the channel's
// presence.
func (n *Node) dropSubscription(ctx context.Context, sub *subscription) {
	n.hub.remove(ctx, sub)
	if sub.presence {
		n.leave(ctx, sub.channel(), sub.session.clientInfo())
	}
	n.notify(Activity{Kind: ActivityUnsubscribed, Session: sub.session, Channel: sub.channel(), Presence: sub.presence})
}
