package client

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/heraldrt/herald/protocol"
)

// SubscriptionHandlers receive a subscription's events. Every field is
// optional. Handlers run one at a time, in order, on a goroutine of the
// client's (never the one reading the socket), and may call Client methods.
type SubscriptionHandlers struct {
	// OnPublication receives the channel's publications in order, without
	// duplicates: a publication whose offset is not above the last one seen
	// on the channel is dropped.
	OnPublication func(Publication)
	// OnSubscribed is called each time the subscription becomes active:
	// after Subscribe, and after every reconnect. Check Recovered there to
	// learn whether publications were missed while disconnected.
	OnSubscribed func(SubscribedEvent)
	// OnUnsubscribed is called once when the subscription ends.
	OnUnsubscribed func(UnsubscribedEvent)
	// OnJoin and OnLeave receive clients joining and leaving the channel.
	// Setting either asks the server for these events (`presence: true`).
	OnJoin, OnLeave func(PresenceEvent)
}

type subState int

const (
	subPending     subState = iota // waits for a connection
	subSubscribing                 // subscribe sent on conn, no reply yet
	subSubscribed                  // active on conn
	subRemoved                     // ended
)

// Subscription is the client's subscription to one channel. It survives
// reconnects: the client renews it on every new connection, asking the
// server to recover missed publications when the channel has history.
type Subscription struct {
	c       *Client
	channel string
	h       SubscriptionHandlers
	opts    subscribeOptions

	// Under c.mu.
	state          subState
	conn           *conn // where the last subscribe was sent
	offset         uint64
	epoch          string
	everSubscribed bool
	recovering     bool
	retries        int
	retry          *time.Timer
	token          string      // the channel token sent with subscribe
	tokenFresh     bool        // token came from the token func for the subscribe under way
	tokenTimer     *time.Timer // gets the next token before this one expires
	fetchSeq       int         // counts token func calls, so that a late one is ignored

	ready chan struct{} // closed at the first outcome of Subscribe
	err   error         // that outcome, set before ready is closed
}

// Channel returns the subscription's channel.
func (s *Subscription) Channel() string { return s.channel }

// Position returns the stream position of the last publication received on
// the channel (or of the subscribe result): what a resubscribe asks the
// server to recover from. It is zero for channels without history.
func (s *Subscription) Position() StreamPosition {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	return StreamPosition{Offset: s.offset, Epoch: s.epoch}
}

// Unsubscribe ends the subscription (see Client.Unsubscribe).
func (s *Subscription) Unsubscribe(ctx context.Context) error {
	return s.c.unsubscribe(ctx, s)
}

// settle records the first outcome of Subscribe. c.mu must be held.
func (s *Subscription) settle(err error) {
	if !isClosed(s.ready) {
		s.err = err
		close(s.ready)
	}
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// stopRetry cancels a scheduled resubscribe. c.mu must be held.
func (s *Subscription) stopRetry() {
	if s.retry != nil {
		s.retry.Stop()
		s.retry = nil
	}
}

// History reads the channel's history (see Client.History). Through the
// subscription, a channel whose history needs a channel token is read
// with the one the subscription was made with.
func (s *Subscription) History(ctx context.Context, opts HistoryOptions) (HistoryResult, error) {
	return s.c.History(ctx, s.channel, opts)
}

// Presence reads who is subscribed to the channel (see Client.Presence).
func (s *Subscription) Presence(ctx context.Context) (PresenceResult, error) {
	return s.c.Presence(ctx, s.channel)
}

// sendSubscribeLocked sends subscribe for sub on cn, with the recovery
// fields when the subscription is being renewed on a channel with history.
// c.mu must be held. When cn has ended, sub stays pending for the next
// connection.
func (c *Client) sendSubscribeLocked(cn *conn, sub *Subscription) {
	sub.stopRetry()
	if sub.needsTokenLocked() {
		c.fetchTokenLocked(cn, sub)
		return
	}
	cmd := protocol.Command{
		Op: protocol.OpSubscribe, Channel: sub.channel, Token: sub.token,
		Presence: sub.h.OnJoin != nil || sub.h.OnLeave != nil,
	}
	if sub.everSubscribed && sub.epoch != "" {
		cmd.Recover, cmd.Offset, cmd.Epoch = true, sub.offset, sub.epoch
	}
	fresh := sub.tokenFresh
	sub.tokenFresh = false
	if _, err := cn.call(&cmd, func(rf *protocol.ReplyFrame, err error) {
		c.onSubscribeReply(cn, sub, rf, err, fresh)
	}); err != nil {
		sub.state, sub.conn = subPending, nil
		return
	}
	sub.state, sub.conn, sub.recovering = subSubscribing, cn, cmd.Recover
}

// onSubscribeReply applies the reply to a subscribe sent on cn. It runs on
// cn's reader, so it is done before any publication that follows the reply.
// freshToken says whether the subscribe carried a token just fetched from
// the subscription's token func.
func (c *Client) onSubscribeReply(cn *conn, sub *Subscription, rf *protocol.ReplyFrame, err error, freshToken bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil || c.subs[sub.channel] != sub || sub.conn != cn || sub.state != subSubscribing {
		// The connection ended (the next one renews sub), or sub was
		// removed (Unsubscribe already told the server).
		return
	}
	if rf.Error != nil {
		if sub.opts.tokenFunc != nil && !freshToken && tokenRefusal(rf.Error.Code) {
			// The token the subscription held may have expired or been
			// revoked: ask the token func for another one, once.
			sub.token = ""
			c.sendSubscribeLocked(cn, sub)
			return
		}
		c.subscribeRefusedLocked(cn, sub, rf.Error)
		return
	}
	var res protocol.SubscribeResult
	if len(rf.Result) > 0 {
		if err := json.Unmarshal(rf.Result, &res); err != nil {
			c.report(fmt.Errorf("herald client: malformed subscribe result for %q: %w", sub.channel, err))
		}
	}
	if res.Epoch != sub.epoch {
		sub.offset = 0 // a new stream generation: old offsets mean nothing
	}
	var pubs []Publication
	for _, p := range res.Publications {
		if p.Offset > 0 && p.Offset <= sub.offset {
			continue
		}
		sub.offset = max(sub.offset, p.Offset)
		pubs = append(pubs, publicationFrom(sub.channel, p))
	}
	sub.offset = max(sub.offset, res.Offset)
	sub.epoch = res.Epoch
	ev := SubscribedEvent{
		Channel: sub.channel, Resubscribed: sub.everSubscribed, Recovering: sub.recovering,
		Recovered: res.Recovered, Recoverable: res.Recoverable, Offset: sub.offset, Epoch: sub.epoch,
	}
	sub.state, sub.retries = subSubscribed, 0
	if fn := sub.h.OnSubscribed; fn != nil {
		c.events.push(func() { fn(ev) })
	}
	if fn := sub.h.OnPublication; fn != nil {
		for _, p := range pubs {
			c.events.push(func() { fn(p) })
		}
	}
	if !sub.everSubscribed {
		sub.settle(nil)
		sub.everSubscribed = true
	}
}

// subscribeRefusedLocked handles a subscribe the server refused: a first
// subscribe fails; a renewal is retried after a backoff when the error is
// temporary, and otherwise ends the subscription.
func (c *Client) subscribeRefusedLocked(cn *conn, sub *Subscription, perr *Error) {
	err := &replyError{op: "subscribe to " + strconv.Quote(sub.channel), err: perr}
	if sub.everSubscribed && temporary(perr.Code) {
		c.retrySubscribeLocked(cn, sub, err)
		return
	}
	c.removeLocked(sub)
	if !sub.everSubscribed {
		sub.settle(err)
		return
	}
	c.report(err)
	if fn := sub.h.OnUnsubscribed; fn != nil {
		ev := UnsubscribedEvent{Channel: sub.channel, Code: perr.Code, Reason: perr.Message, Err: err}
		c.events.push(func() { fn(ev) })
	}
}

// retrySubscribeLocked renews sub on cn after a backoff, reporting err.
// c.mu must be held.
func (c *Client) retrySubscribeLocked(cn *conn, sub *Subscription, err error) {
	sub.state = subPending
	delay := c.backoff.delay(sub.retries)
	sub.retries++
	sub.retry = time.AfterFunc(delay, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.subs[sub.channel] == sub && sub.state == subPending && c.cur == cn && !cn.isDead() {
			c.sendSubscribeLocked(cn, sub)
		}
	})
	c.report(fmt.Errorf("%w; retrying in %v", err, delay.Round(time.Millisecond)))
}

// removeLocked forgets sub. c.mu must be held.
func (c *Client) removeLocked(sub *Subscription) {
	if c.subs[sub.channel] == sub {
		delete(c.subs, sub.channel)
	}
	sub.stopRetry()
	if sub.tokenTimer != nil {
		sub.tokenTimer.Stop()
		sub.tokenTimer = nil
	}
	sub.state = subRemoved
}

// unsubscribe ends sub and, when the server knows of it, tells the server
// and waits for the answer (bounded by ctx).
func (c *Client) unsubscribe(ctx context.Context, sub *Subscription) error {
	cn, sent := c.detach(sub, true)
	if !sent {
		return nil
	}
	ch := make(chan callResult, 1)
	id, err := cn.call(&protocol.Command{Op: protocol.OpUnsubscribe, Channel: sub.channel}, func(rf *protocol.ReplyFrame, err error) {
		ch <- callResult{rf, err}
	})
	if err != nil {
		return nil // the connection ended, and the subscription with it
	}
	what := "unsubscribe from " + strconv.Quote(sub.channel)
	select {
	case r := <-ch:
		if r.rf != nil && r.rf.Error != nil {
			return &replyError{op: what, err: r.rf.Error}
		}
		return nil
	case <-ctx.Done():
		cn.forget(id)
		return fmt.Errorf("herald client: %s: no reply before the context ended: %w", what, ctx.Err())
	}
}

// detach removes sub from the client and reports the connection on which
// the server may hold it (so that the caller sends unsubscribe there).
func (c *Client) detach(sub *Subscription, notify bool) (cn *conn, onServer bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.subs[sub.channel] != sub {
		return nil, false
	}
	onServer = sub.conn != nil && sub.conn == c.cur &&
		(sub.state == subSubscribing || sub.state == subSubscribed)
	cn = sub.conn
	wasActive := sub.everSubscribed
	c.removeLocked(sub)
	sub.settle(fmt.Errorf("herald client: subscribe to %q: unsubscribed before the server answered", sub.channel))
	if fn := sub.h.OnUnsubscribed; notify && wasActive && fn != nil {
		ev := UnsubscribedEvent{Channel: sub.channel, Reason: "unsubscribed by the client"}
		c.events.push(func() { fn(ev) })
	}
	return cn, onServer
}

// handlePub delivers a `pub` push received on cn.
func (c *Client) handlePub(cn *conn, rf *protocol.ReplyFrame) {
	pub := Publication{
		Channel: rf.Channel, Offset: rf.Offset, Data: rf.Data, Binary: rf.Binary, Info: rf.Info, Key: rf.Key,
		Time: unixMilli(rf.Time),
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	sub := c.subs[rf.Channel]
	if sub == nil {
		if fn := c.opts.OnPublication; fn != nil {
			c.events.push(func() { fn(pub) }) // a server-side subscription
		}
		return
	}
	if sub.state != subSubscribed || sub.conn != cn {
		return
	}
	if rf.Epoch != "" && rf.Epoch != sub.epoch {
		// The stream started over (offset 1 of a new epoch): nothing was
		// missed, offsets count again from here.
		sub.epoch, sub.offset = rf.Epoch, 0
	}
	if rf.Offset > 0 {
		if rf.Offset <= sub.offset {
			c.log.Debug("dropped a duplicate publication", "channel", rf.Channel, "offset", rf.Offset, "last", sub.offset)
			return
		}
		sub.offset = rf.Offset
	}
	if fn := sub.h.OnPublication; fn != nil {
		c.events.push(func() { fn(pub) })
	}
}

// handleSubPush handles the pushes about one subscription: join, leave and
// unsub.
func (c *Client) handleSubPush(cn *conn, rf *protocol.ReplyFrame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sub := c.subs[rf.Channel]
	if sub == nil || sub.state != subSubscribed || sub.conn != cn {
		return
	}
	switch rf.Op {
	case protocol.OpJoin, protocol.OpLeave:
		fn := sub.h.OnJoin
		if rf.Op == protocol.OpLeave {
			fn = sub.h.OnLeave
		}
		if fn != nil && rf.Info != nil {
			ev := PresenceEvent{Channel: rf.Channel, Client: *rf.Info}
			c.events.push(func() { fn(ev) })
		}
	case protocol.OpUnsub:
		c.removeLocked(sub)
		if fn := sub.h.OnUnsubscribed; fn != nil {
			ev := UnsubscribedEvent{Channel: rf.Channel, Code: rf.Code, Reason: rf.Reason}
			c.events.push(func() { fn(ev) })
		}
	}
}
