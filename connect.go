package herald

import (
	"time"

	"github.com/heraldrt/herald/protocol"
)

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
		if de, ok := asDisconnect(err); ok {
			s.closeWith(de.Code, de.Reason)
			return errStop
		}
		if err != nil {
			pe, known := toProtocolError(err)
			if !known {
				s.logger().Error("connect handler failed", "error", err)
			}
			s.replyError(cmd.ID, pe)
			s.closeWith(protocol.RefusedConnectCloseCode(pe.Code), pe.Message)
			return errStop
		}
	}
	if len(rep.Info) > 0 {
		info, valid := protocol.Compact(rep.Info)
		if !valid {
			s.logger().Error("connect handler returned invalid JSON info")
			s.replyError(cmd.ID, protocol.NewError(protocol.CodeInternal))
			s.closeWith(protocol.CloseServerError, "")
			return errStop
		}
		s.info = info
	}
	counted := false
	if limit := n.cfg.Limits.MaxConnectionsPerUser; limit > 0 && rep.User != "" {
		if !n.admitUser(n.ctx, s.id, rep.User, limit) {
			s.replyError(cmd.ID, ErrTooManyConnections)
			s.closeWith(protocol.CloseConnectionLimit, "")
			return errStop
		}
		counted = true
	}
	s.mu.Lock()
	closed := s.closed
	s.user, s.countedUser = rep.User, counted && !closed
	s.mu.Unlock()
	if closed && counted { // the connection went while it was being counted
		n.releaseUser(n.ctx, s.id, rep.User)
	}
	s.header = nil
	s.mu.Lock()
	s.connected = true
	s.mu.Unlock()
	n.metrics.connects.Inc()
	s.startHeartbeat()
	n.notify(Activity{Kind: ActivityConnected, Session: s})

	res := &protocol.ConnectResult{
		Client: s.id, Node: n.cfg.Name, User: s.user,
		Ping: pingSeconds(n.cfg.PingInterval), Data: rep.Data,
		Expires: expiresUnix(rep.ExpiresAt),
	}
	s.setExpiry(rep.ExpiresAt)
	// Server-side subscriptions are made before the reply is queued, and
	// their publications wait until it is.
	// connectMu keeps server-side subscribe and unsubscribe calls for this
	// session (Node.Subscribe) waiting until the connect reply is queued,
	// so that no `sub` or `unsub` push precedes it.
	s.connectMu.Lock()
	defer s.connectMu.Unlock()
	var subs []*subscription
	var results []*protocol.SubscribeResult
	channels := n.registerConnected(s, rep.Channels)
	for _, ch := range channels {
		req := subscribeRequest{channel: ch, server: true}
		if pos, ok := cmd.Subs[ch]; ok && pos != nil {
			req.recover, req.since = true, *pos
		}
		sub, sr, err := s.subscribe(n.ctx, req)
		if err != nil {
			s.logger().Error("server-side subscribe failed", "channel", ch, "error", err)
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
	s.debug("client connected", "name", cmd.Name, "version", cmd.Version)
	return nil
}

// pingSeconds is the ping interval announced to clients: whole seconds,
// rounded up, so that a client never expects pings sooner than they come.
func pingSeconds(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}
