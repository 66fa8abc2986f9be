package herald

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// ConnectEvent describes a client's connect command.
type ConnectEvent struct {
	// ClientID is the id the server gave the connection.
	ClientID string
	// Token is the connection token the client sent, if any.
	Token string
	// Name and Version identify the client SDK ("herald-go", "1.0.0").
	Name, Version string
	// Data is the application data the client sent with connect.
	Data json.RawMessage
	// RemoteAddr is the client's network address: the TCP peer's
	// host:port, or, behind a proxy listed in Config.TrustedProxies, the
	// client's IP address from X-Forwarded-For, without a port.
	RemoteAddr string
	// Header holds the HTTP headers of the WebSocket handshake (cookies,
	// user agent).
	Header http.Header
}

// ConnectReply is what an OnConnect handler decides about a connection.
type ConnectReply struct {
	// User is the connection's user id; "" means anonymous.
	User string
	// Info is shown to others with the client's publications and presence.
	Info json.RawMessage
	// Data is returned to the client in the connect result.
	Data json.RawMessage
	// Channels are subscribed on the server's initiative at connect.
	Channels []string
	// ExpiresAt, when set, is when the connection's credentials expire
	// (a token's exp). Before then the server asks the client to refresh
	// (a `refresh` push, Config.RefreshAhead early); a connection still not
	// refreshed at ExpiresAt is closed with 3005. It needs an OnRefresh
	// handler to be useful.
	ExpiresAt time.Time
}

// RefreshEvent describes a client's refresh command: a new token for a
// connection whose credentials expire.
type RefreshEvent struct {
	Token string
}

// RefreshReply is what an OnRefresh handler decides: the new expiry (zero
// means the connection no longer expires).
type RefreshReply struct {
	ExpiresAt time.Time
}

// RefreshHandler checks a refreshed token. Returning an error refuses it:
// ErrTokenExpired lets the client try again before the old expiry,
// ErrUnauthorized (a token that is not valid, or for another user) closes
// the connection with 3500.
type RefreshHandler func(ctx context.Context, s *Session, e RefreshEvent) (RefreshReply, error)

// ConnectHandler decides whether a connection may proceed. Returning an error
// refuses it: ErrUnauthorized closes it with code 3500 (do not reconnect),
// ErrTokenExpired with 3005 (reconnect with a new token), any other *Error
// with 3503 (forbidden), a plain error with 3007 (server error, reconnect).
type ConnectHandler func(ctx context.Context, e *ConnectEvent) (ConnectReply, error)

// SubscribeEvent describes a client's subscribe command.
type SubscribeEvent struct {
	Channel string
	// Token is the channel token the client sent, if any.
	Token string
}

// SubscribeHandler allows a subscription by returning nil, or refuses it with
// an error (ErrPermissionDenied is the usual one).
type SubscribeHandler func(ctx context.Context, s *Session, e SubscribeEvent) error

// PublishEvent describes a client's publish command. The handler may replace
// Data to rewrite the publication.
type PublishEvent struct {
	Channel string
	Data    json.RawMessage
	Key     string
	// Binary says that Data is raw bytes (a binary publication), not
	// JSON. A handler that replaces Data sets it to match.
	Binary bool
}

// PublishHandler allows a client publication by returning nil, or refuses it
// with an error.
type PublishHandler func(ctx context.Context, s *Session, e *PublishEvent) error

// RPCHandler answers one RPC method. The result is sent as the reply's data:
// a json.RawMessage or []byte is sent as is, anything else is encoded with
// encoding/json.
type RPCHandler func(ctx context.Context, s *Session, data json.RawMessage) (any, error)

// MessageHandler receives the data of a client's send command. Nothing is
// sent back.
type MessageHandler func(ctx context.Context, s *Session, data json.RawMessage)

// DisconnectEvent says why a connection ended.
type DisconnectEvent struct {
	// Code is the close code (see package protocol); 1000 or 1001 when the
	// client closed normally, 1006 when the connection dropped.
	Code int
	// Reason is a short text for people.
	Reason string
}

// DisconnectHandler is told about every connection that completed connect
// and then ended.
type DisconnectHandler func(s *Session, e DisconnectEvent)

// handlers is one immutable set of event handlers, swapped as a whole when
// an application registers one.
type handlers struct {
	connect    ConnectHandler
	subscribe  SubscribeHandler
	publish    PublishHandler
	message    MessageHandler
	disconnect DisconnectHandler
	refresh    RefreshHandler
	rpc        map[string]RPCHandler

	rpcFallback RPCFallbackHandler // rpc_fallback.go
	activity    []ActivityHandler  // activity.go
}

func (h *handlers) clone() *handlers {
	c := *h
	c.rpc = make(map[string]RPCHandler, len(h.rpc)+1)
	for k, v := range h.rpc {
		c.rpc[k] = v
	}
	return &c
}

func (n *Node) updateHandlers(fn func(h *handlers)) {
	n.handlersMu.Lock()
	defer n.handlersMu.Unlock()
	h := n.handlers.Load().clone()
	fn(h)
	n.handlers.Store(h)
}

// OnConnect registers the handler that authenticates connections. Without
// one, every connection is accepted as anonymous.
func (n *Node) OnConnect(fn ConnectHandler) { n.updateHandlers(func(h *handlers) { h.connect = fn }) }

// OnSubscribe registers the handler that authorizes subscriptions. Without
// one, every subscription is allowed.
func (n *Node) OnSubscribe(fn SubscribeHandler) {
	n.updateHandlers(func(h *handlers) { h.subscribe = fn })
}

// OnPublish registers the handler that authorizes (and may rewrite) client
// publications. Without one, every client publication is allowed.
func (n *Node) OnPublish(fn PublishHandler) { n.updateHandlers(func(h *handlers) { h.publish = fn }) }

// OnRPC registers the handler of one RPC method, replacing any earlier one.
func (n *Node) OnRPC(method string, fn RPCHandler) {
	n.updateHandlers(func(h *handlers) { h.rpc[method] = fn })
}

// OnMessage registers the handler of the send command.
func (n *Node) OnMessage(fn MessageHandler) { n.updateHandlers(func(h *handlers) { h.message = fn }) }

// OnRefresh registers the handler of the refresh command, which extends a
// connection whose ConnectReply set ExpiresAt. Without one, refresh answers
// 108 and such connections close at their expiry.
func (n *Node) OnRefresh(fn RefreshHandler) { n.updateHandlers(func(h *handlers) { h.refresh = fn }) }

// OnDisconnect registers the handler told about ended connections.
func (n *Node) OnDisconnect(fn DisconnectHandler) {
	n.updateHandlers(func(h *handlers) { h.disconnect = fn })
}
