package client

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/heraldrt/herald/protocol"
)

// SDKName and SDKVersion are sent in connect when Options leave Name and
// Version empty, so that servers can tell this SDK apart in their logs.
const (
	SDKName    = "herald-go"
	SDKVersion = "0.1.0"
)

// Options configure a Client. Every zero field means its documented default,
// so Options{} connects anonymously to a server in open mode.
type Options struct {
	// Token is the connection token (a JWT) sent with connect. It is ignored
	// when TokenFunc is set. A connection whose token expires is closed by
	// the server at the expiry (3005) and reconnects with the same Token;
	// if the server then refuses it as expired (109), the client stops:
	// set TokenFunc to keep connected past a token's lifetime.
	Token string
	// TokenFunc, when set, is called before every connection attempt
	// (the first one and each reconnect) to get a fresh token. An error is
	// reported to OnError and the attempt is retried with backoff, except an
	// error that wraps ErrUnauthorized, which stops the client. It must
	// return when ctx ends (Close waits for it).
	//
	// It also keeps a connection whose token expires (the connect result
	// has an expiry) alive: when the server asks for a refresh (and, should
	// that request not come, shortly before the expiry), the client calls
	// TokenFunc and sends the new token in a refresh command, with no
	// reconnect. A token the server finds expired (109), an error of
	// TokenFunc or a busy server is retried with backoff until the expiry;
	// then the server closes the connection (3005) and the client
	// reconnects with a token from TokenFunc. An error that wraps
	// ErrUnauthorized, from TokenFunc, makes the client stop refreshing
	// that connection. A token the server refuses (101) makes the server
	// close the connection (3500) and the client stop. Calls are bounded by
	// DialTimeout and never concurrent.
	TokenFunc func(ctx context.Context) (string, error)

	// Name and Version identify the application or SDK to the server
	// (default SDKName and SDKVersion).
	Name, Version string
	// Data is application data sent with connect; the server's OnConnect
	// handler sees it. It must be valid JSON.
	Data json.RawMessage

	// Header holds extra HTTP headers for the WebSocket handshake (cookies,
	// Authorization for a proxy).
	Header http.Header
	// HTTPClient performs the WebSocket handshake (default: a client of the
	// Client's own, which keeps no idle connections). Its Timeout must be 0;
	// use DialTimeout instead.
	HTTPClient *http.Client

	// Transport chooses how to reach the server: TransportAuto (the
	// default) tries a WebSocket, then HTTP-streaming, then Server-Sent
	// Events, on every attempt; another value forces that one.
	// ConnectedEvent.Transport says which one a connection uses.
	Transport Transport
	// Encoding chooses how messages travel on a WebSocket: EncodingAuto
	// (the default) speaks the binary encoding (Protobuf, binary frames)
	// when the server accepts it and JSON otherwise; EncodingJSON speaks
	// JSON; EncodingProtobuf insists on the binary encoding. The fallback
	// transports speak JSON. ConnectedEvent.Encoding says which one a
	// connection uses; publishing and receiving bytes work on both.
	Encoding Encoding
	// FallbackURL is where the fallback transports are: the streams at
	// FallbackURL/stream and FallbackURL/sse, commands POSTed to
	// FallbackURL/cmd (default: the client's URL with an http or https
	// scheme and its last path element removed, so ws://host/ws gives
	// http://host, as the herald binary serves them).
	FallbackURL string

	// Logger receives the client's structured logs (default: discard).
	Logger *slog.Logger

	// DialTimeout bounds one connection attempt: the TCP and WebSocket
	// handshakes and the reply to connect (default 10 s).
	DialTimeout time.Duration
	// WriteTimeout bounds writing one frame; a connection that cannot take
	// a frame in this long is dropped and reconnected (default 10 s).
	WriteTimeout time.Duration

	// MinReconnectDelay and MaxReconnectDelay shape the exponential backoff
	// between connection attempts: before attempt n the client sleeps a
	// random duration between 0 and min(Max, Min*2^n) ("full jitter").
	// Defaults: 250 ms and 20 s.
	MinReconnectDelay, MaxReconnectDelay time.Duration

	// PingGrace is how long past the server's ping interval (announced in
	// the connect result) the client waits for any message before it
	// considers the server silent, drops the connection and reconnects
	// (default 10 s).
	PingGrace time.Duration
	// ReadTimeout, when positive, replaces "ping interval + PingGrace": the
	// longest the client waits for any message from the server. Use it when
	// the server announces no ping interval, or in tests.
	ReadTimeout time.Duration

	// MaxMessageSize bounds one frame read from the server, in bytes
	// (default 16 MiB; -1 means no limit). A larger frame closes the
	// connection with code 1009 and stops the client.
	MaxMessageSize int64

	// OnConnecting is called when the client starts connecting: after
	// Connect (Code 0) and after each connection loss that allows a
	// reconnect, with the close code and reason.
	OnConnecting func(ConnectingEvent)
	// OnConnected is called each time a connection is established, before
	// the subscriptions are renewed on it.
	OnConnected func(ConnectedEvent)
	// OnDisconnected is called when the client stops for good: a close
	// code that forbids reconnecting (see protocol.ShouldReconnect), a
	// refused connect, or Close.
	OnDisconnected func(DisconnectedEvent)
	// OnError reports problems the client handles by itself: failed
	// connection attempts, a token function's errors, failed refreshes of
	// an expiring connection's token, a subscription the server refused on
	// resubscribe, malformed server messages.
	OnError func(error)
	// OnMessage receives `message` pushes: data the server sent to this
	// connection or its user (Session.Send on the server).
	OnMessage func(data json.RawMessage)
	// OnPublication receives publications on channels this client did not
	// subscribe to itself: the server-side subscriptions made by the
	// server's OnConnect handler.
	OnPublication func(Publication)
}

func (o *Options) setDefaults() {
	if o.Name == "" {
		o.Name = SDKName
	}
	if o.Version == "" {
		o.Version = SDKVersion
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	setDefault(&o.DialTimeout, 10*time.Second)
	setDefault(&o.WriteTimeout, 10*time.Second)
	setDefault(&o.MinReconnectDelay, 250*time.Millisecond)
	setDefault(&o.MaxReconnectDelay, 20*time.Second)
	setDefault(&o.PingGrace, 10*time.Second)
	if o.MaxReconnectDelay < o.MinReconnectDelay {
		o.MaxReconnectDelay = o.MinReconnectDelay
	}
	if o.MaxMessageSize == 0 {
		o.MaxMessageSize = 16 << 20
	}
	if o.Header != nil {
		o.Header = o.Header.Clone()
	}
}

func setDefault(v *time.Duration, def time.Duration) {
	if *v <= 0 {
		*v = def
	}
}

// silence returns how long the connection may stay without any message from
// the server, given the ping interval from the connect result (0: no limit).
func (o *Options) silence(pingSeconds int) time.Duration {
	if o.ReadTimeout > 0 {
		return o.ReadTimeout
	}
	if pingSeconds <= 0 {
		return 0
	}
	return time.Duration(pingSeconds)*time.Second + o.PingGrace
}

// PublishOption changes one Publish.
type PublishOption func(*publishOptions)

type publishOptions struct {
	key string
}

// WithKey makes the publish idempotent: another publish with the same key on
// the same channel, within the server's idempotency window, publishes
// nothing and returns the first publication's position. Use it to retry a
// publish safely after ErrConnectionLost.
func WithKey(key string) PublishOption { return func(o *publishOptions) { o.key = key } }

// StreamPosition names a place in a channel's stream: an offset within an
// epoch (one generation of the channel's history).
type StreamPosition = protocol.StreamPosition

// HistoryOptions select publications for History.
type HistoryOptions struct {
	// Since selects publications after this position (before it with
	// Reverse); nil starts from the oldest (the newest with Reverse).
	Since *StreamPosition
	// Limit caps the publications returned (0: the server's maximum).
	Limit int
	// Reverse returns the newest first.
	Reverse bool
}
