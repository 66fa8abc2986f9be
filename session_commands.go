package herald

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/protocol"
)

// HandleFrame implements the transport's Peer: it decodes the commands in
// one frame and runs them in order. A frame that breaks the protocol closes
// the connection with CloseBadRequest and a reason that says what was wrong.
func (s *Session) HandleFrame(frame []byte, text bool) {
	if !text {
		s.closeWith(protocol.CloseUnsupported, "binary frames are not supported by protocol v1")
		return
	}
	s.handling.Add(1)
	defer s.handling.Add(-1)
	var cmd protocol.Command
	_ = protocol.SplitMessages(frame, func(msg []byte) error {
		if err := protocol.DecodeCommand(msg, &cmd); err != nil {
			if errors.Is(err, protocol.ErrInvalidField) && cmd.ID != 0 {
				s.replyError(cmd.ID, protocol.NewError(protocol.CodeBadRequest, err.Error()))
				return nil
			}
			s.closeWith(protocol.CloseBadRequest, err.Error())
			return err
		}
		return s.handleCommand(&cmd)
	})
}

var errStop = errors.New("stop handling this frame")

// handleCommand runs one decoded command. It returns errStop when the
// connection is closing and the rest of the frame must be ignored.
func (s *Session) handleCommand(cmd *protocol.Command) error {
	s.mu.Lock()
	closing, connected := s.closing, s.connected
	s.mu.Unlock()
	if closing {
		return errStop
	}
	if !connected {
		if cmd.Op != protocol.OpConnect {
			s.closeWith(protocol.CloseBadRequest, "connect must be the first command")
			return errStop
		}
		return s.handleConnect(cmd)
	}
	ctx := s.node.ctx
	switch cmd.Op {
	case protocol.OpPong:
		s.handlePong()
	case protocol.OpConnect:
		s.replyError(cmd.ID, protocol.NewError(protocol.CodeBadRequest, "already connected"))
	case protocol.OpSubscribe:
		s.reply(cmd.ID, s.handleSubscribe(ctx, cmd))
	case protocol.OpUnsubscribe:
		s.reply(cmd.ID, s.handleUnsubscribe(ctx, cmd))
	case protocol.OpPublish:
		s.reply(cmd.ID, s.handlePublish(ctx, cmd))
	case protocol.OpRPC:
		s.reply(cmd.ID, s.handleRPC(ctx, cmd))
	case protocol.OpHistory:
		s.reply(cmd.ID, s.handleHistory(ctx, cmd))
	case protocol.OpSend:
		if h := s.node.handlers.Load().message; h != nil {
			h(ctx, s, cmd.Data)
		}
	case protocol.OpPresence, protocol.OpRefresh:
		s.replyError(cmd.ID, protocol.NewError(protocol.CodeNotAvailable, cmd.Op+" is not available on this server"))
	default:
		s.replyError(cmd.ID, protocol.NewError(protocol.CodeBadRequest, "unknown op "+quoteOp(cmd.Op)))
	}
	return nil
}

func quoteOp(op string) string {
	if len(op) > 32 {
		op = op[:32] + "..."
	}
	return string(protocol.AppendString(nil, op))
}

// result is what a command handler produces: a result value or an error.
type result struct {
	value   any
	err     error
	replied bool
}

func ok(v any) result          { return result{value: v} }
func fail(err error) result    { return result{err: err} }
func failCode(code int) result { return fail(protocol.NewError(code)) }

// replied is returned by command handlers that queued their reply
// themselves.
var replied = result{replied: true}

func (s *Session) reply(id uint64, r result) {
	if !r.replied {
		s.enqueue(s.encodeReply(id, r))
	}
}

// encodeReply encodes the reply to command id. An error that is not an
// *Error is logged and reaches the client as code 100.
func (s *Session) encodeReply(id uint64, r result) []byte {
	if r.err != nil {
		pe, known := toProtocolError(r.err)
		if !known {
			s.log.Error("command failed", "id", id, "error", r.err)
		}
		b, _ := protocol.EncodeReply(&protocol.Reply{ID: id, Error: pe})
		return b
	}
	b, err := protocol.EncodeReply(&protocol.Reply{ID: id, Result: r.value})
	if err != nil {
		s.log.Error("encode reply", "error", err)
		b, _ = protocol.EncodeReply(&protocol.Reply{ID: id, Error: protocol.NewError(protocol.CodeInternal)})
	}
	return b
}

func (s *Session) replyError(id uint64, e *protocol.Error) {
	s.reply(id, fail(e))
}

// handleConnect authenticates the connection through the OnConnect handler
// and registers it with the node.
func (s *Session) handleConnect(cmd *protocol.Command) error {
	n := s.node
	var rep ConnectReply
	if h := n.handlers.Load().connect; h != nil {
		var err error
		rep, err = h(n.ctx, &ConnectEvent{
			ClientID: s.id, Token: cmd.Token, Name: cmd.Name, Version: cmd.Version,
			Data: cmd.Data, RemoteAddr: s.remoteAddr, Header: s.header,
		})
		if err != nil {
			pe, known := toProtocolError(err)
			if !known {
				s.log.Error("connect handler failed", "error", err)
			}
			s.replyError(cmd.ID, pe)
			s.closeWith(connectCloseCode(pe.Code, known), pe.Message)
			return errStop
		}
	}
	if len(rep.Info) > 0 {
		info, valid := protocol.Compact(rep.Info)
		if !valid {
			s.log.Error("connect handler returned invalid JSON info")
			s.replyError(cmd.ID, protocol.NewError(protocol.CodeInternal))
			s.closeWith(protocol.CloseServerError, "")
			return errStop
		}
		s.info = info
	}
	s.user = rep.User
	s.header = nil
	s.log = s.log.With("user", s.user)
	s.mu.Lock()
	s.connected = true
	s.mu.Unlock()
	n.addSession(s)
	s.startHeartbeat()

	res := &protocol.ConnectResult{
		Client: s.id, Node: n.cfg.Name, User: s.user,
		Ping: pingSeconds(n.cfg.PingInterval), Data: rep.Data,
	}
	// Server-side subscriptions are made before the reply is queued, and
	// their publications wait until it is.
	var subs []*subscription
	var results []*protocol.SubscribeResult
	for _, ch := range rep.Channels {
		sub, sr, err := s.subscribe(n.ctx, ch)
		if err != nil {
			s.log.Error("server-side subscribe failed", "channel", ch, "error", err)
			continue
		}
		if res.Subs == nil {
			res.Subs = make(map[string]*protocol.SubscribeResult)
		}
		res.Subs[ch] = sr
		subs = append(subs, sub)
		results = append(results, sr)
	}
	s.goLive(subs, results, func() []byte { return s.encodeReply(cmd.ID, ok(res)) })
	s.log.Debug("client connected", "name", cmd.Name, "version", cmd.Version)
	return nil
}

// pingSeconds is the ping interval announced to clients: whole seconds,
// rounded up, so that a client never expects pings sooner than they come.
func pingSeconds(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}

// connectCloseCode picks the close code that follows a refused connect.
func connectCloseCode(code int, known bool) int {
	switch {
	case !known || code == protocol.CodeInternal:
		return protocol.CloseServerError
	case code == protocol.CodeUnauthorized:
		return protocol.CloseInvalidToken
	case code == protocol.CodeTokenExpired:
		return protocol.CloseTokenExpired
	case code == protocol.CodeLimitExceeded:
		return protocol.CloseConnectionLimit
	case code == protocol.CodeTooManyRequests:
		return protocol.CloseForceReconnect // come back later, with backoff
	default:
		return protocol.CloseForbidden
	}
}

func (s *Session) handleSubscribe(ctx context.Context, cmd *protocol.Command) result {
	if cmd.Channel == "" {
		return fail(protocol.NewError(protocol.CodeBadRequest, "subscribe needs a channel"))
	}
	s.mu.Lock()
	_, dup := s.subs[cmd.Channel]
	s.mu.Unlock()
	if dup {
		return failCode(protocol.CodeAlreadySubscribed)
	}
	if h := s.node.handlers.Load().subscribe; h != nil {
		if err := h(ctx, s, SubscribeEvent{Channel: cmd.Channel, Token: cmd.Token}); err != nil {
			return fail(err)
		}
	}
	sub, res, err := s.subscribe(ctx, cmd.Channel)
	if err != nil {
		return fail(err)
	}
	s.goLive([]*subscription{sub}, []*protocol.SubscribeResult{res}, func() []byte {
		return s.encodeReply(cmd.ID, ok(res))
	})
	return replied
}

// subscribe registers a not-yet-live subscription with the hub and reads the
// channel's stream position.
func (s *Session) subscribe(ctx context.Context, channel string) (*subscription, *protocol.SubscribeResult, error) {
	sub := &subscription{session: s, channel: channel}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil, nil, ErrNodeClosed
	}
	if _, dup := s.subs[channel]; dup {
		s.mu.Unlock()
		return nil, nil, ErrAlreadySubscribed
	}
	if s.subs == nil {
		s.subs = make(map[string]*subscription)
	}
	s.subs[channel] = sub
	s.mu.Unlock()

	fail := func(err error) (*subscription, *protocol.SubscribeResult, error) {
		s.mu.Lock()
		delete(s.subs, channel)
		s.mu.Unlock()
		return nil, nil, err
	}
	if err := s.node.hub.add(ctx, sub); err != nil {
		return fail(err)
	}
	res := &protocol.SubscribeResult{}
	if s.node.cfg.HistorySize > 0 {
		h, err := s.node.broker.History(ctx, channel, broker.HistoryOptions{})
		if err != nil {
			s.node.hub.remove(ctx, sub)
			return fail(err)
		}
		res.Offset, res.Epoch, res.Recoverable = h.Position.Offset, h.Position.Epoch, true
	}
	return sub, res, nil
}

// goLive queues the reply that encode builds, then the publications that
// arrived while the subscriptions were being set up, and lets later ones go
// straight to the queue. Everything happens under s.mu, so no publication can
// overtake the reply. Each result's position is made consistent with what
// follows it:
//   - without recovered publications, the reply's offset is lowered to just
//     before the first held publication, so the client sees that one as new;
//   - with recovered publications, held ones the reply already carries (at or
//     below its offset) are dropped, so none arrives twice.
func (s *Session) goLive(subs []*subscription, results []*protocol.SubscribeResult, encode func() []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, sub := range subs {
		res := results[i]
		if len(sub.pending) == 0 || sub.pending[0].offset == 0 {
			continue
		}
		if len(res.Publications) > 0 {
			keep := sub.pending[:0]
			for _, p := range sub.pending {
				if p.offset > res.Offset {
					keep = append(keep, p)
				} else {
					s.queued -= len(p.data)
				}
			}
			sub.pending = keep
		} else if first := sub.pending[0].offset; first <= res.Offset {
			res.Offset = first - 1
		}
	}
	s.pushLocked(encode())
	for _, sub := range subs {
		pending := sub.pending
		sub.pending = nil
		sub.live = true
		for _, p := range pending {
			s.queued -= len(p.data)
			s.pushLocked(p.data)
		}
	}
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
	sub := s.subs[channel]
	delete(s.subs, channel)
	s.mu.Unlock()
	if sub == nil {
		return false
	}
	s.node.hub.remove(ctx, sub)
	return true
}

func (s *Session) handlePublish(ctx context.Context, cmd *protocol.Command) result {
	if cmd.Channel == "" {
		return fail(protocol.NewError(protocol.CodeBadRequest, "publish needs a channel"))
	}
	if len(cmd.Data) == 0 {
		return fail(protocol.NewError(protocol.CodeBadRequest, "publish needs data"))
	}
	ev := &PublishEvent{Channel: cmd.Channel, Data: cmd.Data, Key: cmd.Key}
	if h := s.node.handlers.Load().publish; h != nil {
		if err := h(ctx, s, ev); err != nil {
			return fail(err)
		}
	}
	res, err := s.node.publish(ctx, ev.Channel, ev.Data, publishOptions{key: ev.Key, info: s.clientInfo()})
	if err != nil {
		return fail(err)
	}
	return ok(&protocol.PublishResult{Offset: res.Offset, Epoch: res.Epoch})
}

func (s *Session) handleRPC(ctx context.Context, cmd *protocol.Command) result {
	h := s.node.handlers.Load().rpc[cmd.Method]
	if h == nil {
		return fail(protocol.NewError(protocol.CodeMethodNotFound, "method not found: "+quoteOp(cmd.Method)))
	}
	v, err := h(ctx, s, cmd.Data)
	if err != nil {
		return fail(err)
	}
	data, err := encodeData(v)
	if err != nil {
		return fail(err)
	}
	return ok(&protocol.RPCResult{Data: data})
}

// encodeData turns a handler's result into compact JSON.
func encodeData(v any) (json.RawMessage, error) {
	var raw []byte
	switch d := v.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		raw = d
	case []byte:
		raw = d
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		raw = b
	}
	if len(raw) == 0 {
		return nil, nil // an empty result means no data
	}
	out, valid := protocol.Compact(raw)
	if !valid {
		return nil, ErrInvalidData
	}
	return out, nil
}

func (s *Session) handleHistory(ctx context.Context, cmd *protocol.Command) result {
	if cmd.Channel == "" {
		return fail(protocol.NewError(protocol.CodeBadRequest, "history needs a channel"))
	}
	// Reading a channel's history is reading the channel: the subscribe
	// handler decides.
	if h := s.node.handlers.Load().subscribe; h != nil {
		if err := h(ctx, s, SubscribeEvent{Channel: cmd.Channel}); err != nil {
			return fail(err)
		}
	}
	res, err := s.node.History(ctx, cmd.Channel, HistoryOptions{Since: cmd.Since, Limit: cmd.Limit, Reverse: cmd.Reverse})
	if err != nil {
		return fail(err)
	}
	return ok(res)
}
