package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/heraldrt/herald"
)

// The requests Herald sends, one per event (docs/backend.md shows them).

// ConnectRequest is the body of a connect call.
type ConnectRequest struct {
	Client     string          `json:"client"`
	RemoteAddr string          `json:"remote_addr,omitempty"`
	Name       string          `json:"name,omitempty"`
	Version    string          `json:"version,omitempty"`
	Token      string          `json:"token,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
}

// ConnectResult is the result a backend answers to connect.
type ConnectResult struct {
	User     string          `json:"user"`
	Info     json.RawMessage `json:"info,omitempty"`
	Data     json.RawMessage `json:"data,omitempty"`
	Channels []string        `json:"channels,omitempty"`
	// ExpireAt, in Unix seconds, is when the connection must refresh
	// (0: never).
	ExpireAt int64 `json:"expire_at,omitempty"`
}

// RefreshRequest is the body of a refresh call.
type RefreshRequest struct {
	Client string `json:"client"`
	User   string `json:"user"`
	Token  string `json:"token,omitempty"`
}

// RefreshResult is the result a backend answers to refresh.
type RefreshResult struct {
	ExpireAt int64 `json:"expire_at,omitempty"`
}

// ChannelRequest is the body of a subscribe call (and, with Data, Binary
// and Key, of a publish call). A binary publication's Data is a JSON
// string holding the base64 of its bytes, with Binary set.
type ChannelRequest struct {
	Client  string          `json:"client"`
	User    string          `json:"user"`
	Info    json.RawMessage `json:"info,omitempty"`
	Channel string          `json:"channel"`
	Token   string          `json:"token,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
	Binary  bool            `json:"binary,omitempty"`
	Key     string          `json:"key,omitempty"`
}

// PublishResult is the result a backend answers to publish: Data, when
// set, replaces the publication's data; with Binary set, Data is a
// base64 string and the publication becomes the bytes it decodes to.
type PublishResult struct {
	Data   json.RawMessage `json:"data,omitempty"`
	Binary bool            `json:"binary,omitempty"`
}

// RPCRequest is the body of an rpc call (and, without Method, of a send
// call).
type RPCRequest struct {
	Client string          `json:"client"`
	User   string          `json:"user"`
	Info   json.RawMessage `json:"info,omitempty"`
	Method string          `json:"method,omitempty"`
	Data   json.RawMessage `json:"data,omitempty"`
}

// ConnectHandler returns the handler that asks the connect endpoint. The
// backend's disconnect answer closes the connection with its code.
func (p *Proxy) ConnectHandler() herald.ConnectHandler {
	ep := p.cfg.Connect
	return func(ctx context.Context, e *herald.ConnectEvent) (herald.ConnectReply, error) {
		req := ConnectRequest{Client: e.ClientID, RemoteAddr: e.RemoteAddr, Name: e.Name, Version: e.Version, Token: e.Token, Data: e.Data}
		var res ConnectResult
		if err := p.ask(ctx, EventConnect, ep, e.Header, req, &res, nil); err != nil {
			return herald.ConnectReply{}, err
		}
		rep := herald.ConnectReply{User: res.User, Info: res.Info, Data: res.Data, Channels: res.Channels}
		if res.ExpireAt > 0 {
			rep.ExpiresAt = time.Unix(res.ExpireAt, 0)
		}
		return rep, nil
	}
}

// RefreshHandler returns the handler that asks the refresh endpoint.
func (p *Proxy) RefreshHandler() herald.RefreshHandler {
	ep := p.cfg.Refresh
	return func(ctx context.Context, s *herald.Session, e herald.RefreshEvent) (herald.RefreshReply, error) {
		var res RefreshResult
		if err := p.ask(ctx, EventRefresh, ep, nil, RefreshRequest{Client: s.ID(), User: s.User(), Token: e.Token}, &res, s); err != nil {
			return herald.RefreshReply{}, err
		}
		var rep herald.RefreshReply
		if res.ExpireAt > 0 {
			rep.ExpiresAt = time.Unix(res.ExpireAt, 0)
		}
		return rep, nil
	}
}

// SubscribeHandler returns the handler that asks the subscribe endpoint.
// Herald asks it for presence and history reads too: they read the
// channel.
func (p *Proxy) SubscribeHandler() herald.SubscribeHandler {
	ep := p.cfg.Subscribe
	return func(ctx context.Context, s *herald.Session, e herald.SubscribeEvent) error {
		req := ChannelRequest{Client: s.ID(), User: s.User(), Info: s.Info(), Channel: e.Channel, Token: e.Token}
		return p.ask(ctx, EventSubscribe, ep, nil, req, nil, s)
	}
}

// PublishHandler returns the handler that asks the publish endpoint; a
// result with data rewrites the publication.
func (p *Proxy) PublishHandler() herald.PublishHandler {
	ep := p.cfg.Publish
	return func(ctx context.Context, s *herald.Session, e *herald.PublishEvent) error {
		req := ChannelRequest{Client: s.ID(), User: s.User(), Info: s.Info(), Channel: e.Channel, Data: e.Data, Key: e.Key}
		if e.Binary {
			// encoding/json writes bytes as a base64 string.
			b, err := json.Marshal([]byte(e.Data))
			if err != nil {
				return err
			}
			req.Data, req.Binary = b, true
		}
		var res PublishResult
		if err := p.ask(ctx, EventPublish, ep, nil, req, &res, s); err != nil {
			return err
		}
		if len(res.Data) == 0 || string(res.Data) == "null" {
			return nil
		}
		if res.Binary {
			var b []byte
			if err := json.Unmarshal(res.Data, &b); err != nil {
				p.log.Warn("proxy: the backend's binary publish data is not a base64 string", "channel", e.Channel, "error", err)
				return ErrBadAnswer
			}
			e.Data, e.Binary = b, true
			return nil
		}
		e.Data, e.Binary = res.Data, false
		return nil
	}
}

// RPCHandler returns the fallback RPC handler that sends each method to
// its route's endpoint; the backend's result is the RPC's result. A method
// no route matches answers 104.
func (p *Proxy) RPCHandler() herald.RPCFallbackHandler {
	return func(ctx context.Context, s *herald.Session, method string, data json.RawMessage) (any, error) {
		ep := p.cfg.route(method)
		if ep == nil {
			return nil, herald.ErrMethodNotFound
		}
		var res json.RawMessage
		req := RPCRequest{Client: s.ID(), User: s.User(), Info: s.Info(), Method: method, Data: data}
		if err := p.ask(ctx, EventRPC, ep, nil, req, &res, s); err != nil {
			return nil, err
		}
		return res, nil
	}
}

// MessageHandler returns the handler that forwards the client's send
// command; nothing goes back to the client, and failures are only logged
// and counted.
func (p *Proxy) MessageHandler() herald.MessageHandler {
	ep := p.cfg.Send
	return func(ctx context.Context, s *herald.Session, data json.RawMessage) {
		_ = p.ask(ctx, EventSend, ep, nil, RPCRequest{Client: s.ID(), User: s.User(), Info: s.Info(), Data: data}, nil, s)
	}
}

// errDisconnected is the reply to a command whose connection the backend
// closed.
var errDisconnected = herald.NewError(103, "the application's backend closed this connection")

// ask calls ep and decodes the result into res (when not nil). A backend
// error becomes the client's *herald.Error; a disconnect answer closes s,
// or refuses the connect with its code when s is nil.
func (p *Proxy) ask(ctx context.Context, event string, ep *Endpoint, header map[string][]string, req, res any, s *herald.Session) error {
	if s != nil {
		header = p.captures.header(s)
	}
	a, err := p.call(ctx, event, ep, header, req, res)
	if err != nil {
		var f *failure
		if errors.As(err, &f) {
			return f.client
		}
		return err
	}
	switch {
	case a.Error != nil:
		return herald.NewError(a.Error.Code, a.Error.Message)
	case a.Disconnect != nil:
		if s == nil {
			return &herald.DisconnectError{Code: a.Disconnect.Code, Reason: a.Disconnect.Reason}
		}
		s.Disconnect(a.Disconnect.Code, a.Disconnect.Reason)
		return errDisconnected
	}
	return nil
}
