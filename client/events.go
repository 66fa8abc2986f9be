package client

import (
	"encoding/json"
	"time"

	"github.com/heraldrt/herald/protocol"
)

// State is where a Client is in its life.
type State int

// The states of a Client. A new Client is Disconnected; Connect moves it to
// Connecting, then Connected; a lost connection moves it back to Connecting
// (when the close code allows a reconnect) or to Disconnected; Close moves it
// to Closed for good.
const (
	StateDisconnected State = iota
	StateConnecting
	StateConnected
	StateClosed
)

// String returns the state's name.
func (s State) String() string {
	switch s {
	case StateDisconnected:
		return "disconnected"
	case StateConnecting:
		return "connecting"
	case StateConnected:
		return "connected"
	case StateClosed:
		return "closed"
	}
	return "unknown"
}

// ClientInfo describes a connection to others: the publisher of a
// publication, a client joining or leaving a channel.
type ClientInfo = protocol.ClientInfo

// ConnectingEvent is passed to Options.OnConnecting.
type ConnectingEvent struct {
	// Code and Reason say why the client is connecting: 0 and "connect
	// called" for the first attempt, else the close code and reason of the
	// connection that was lost.
	Code   int
	Reason string
}

// ConnectedEvent is passed to Options.OnConnected: the connect result.
type ConnectedEvent struct {
	// Client is this connection's id, unique across the server's nodes.
	Client string
	// User is the user id the server gave the connection ("" for anonymous).
	User string
	// Node names the server node that accepted the connection.
	Node string
	// Transport is the transport this connection uses (Options.Transport
	// chooses; with TransportAuto, the first that opened).
	Transport Transport
	// Encoding is the encoding this connection speaks: EncodingProtobuf
	// or EncodingJSON (Options.Encoding offers; the server chooses).
	Encoding Encoding
	// Ping is how often the server pings this connection (0: never).
	Ping time.Duration
	// Expires is when the connection's token expires (zero: never). With
	// Options.TokenFunc the client refreshes the token before then.
	Expires time.Time
	// Data is application data from the server's OnConnect handler.
	Data json.RawMessage
}

// DisconnectedEvent is passed to Options.OnDisconnected.
type DisconnectedEvent struct {
	// Code is the close code (1000 after Close).
	Code int
	// Reason is a short text for people.
	Reason string
	// Err is the server's refusal when connect was refused, else nil.
	Err error
}

// Publication is one message published to a channel.
type Publication struct {
	// Channel is where it was published.
	Channel string
	// Offset is its place in the channel's stream (0 for channels without
	// history).
	Offset uint64
	// Data is the published JSON value, or, when Binary is set, the
	// published bytes (published with PublishBytes, or as binary data by
	// the server): not JSON, whatever they look like.
	Data json.RawMessage
	// Binary says that Data holds raw bytes instead of JSON. It is the
	// same on every encoding and transport: a binary publication that
	// reached a JSON connection in base64 is decoded back to its bytes.
	Binary bool
	// Info describes the publisher when a client published it, else nil.
	Info *ClientInfo
	// Key is the publisher's idempotency key, if any.
	Key string
	// Time is when the server received it (zero if the server did not say).
	Time time.Time
}

// SubscribedEvent is passed to SubscriptionHandlers.OnSubscribed each time a
// subscription becomes active: once after Subscribe and again after every
// reconnect.
type SubscribedEvent struct {
	Channel string
	// Resubscribed is false the first time and true after a reconnect.
	Resubscribed bool
	// Recovering is true when the client asked the server to recover the
	// publications it missed (the channel has history and an epoch).
	Recovering bool
	// Recovered is true when the server delivered every missed publication
	// (they follow this event through OnPublication). When Resubscribed is
	// true and Recovered is false, publications may have been missed: reload
	// the application's state.
	Recovered bool
	// Recoverable is true when the channel keeps history, so that a later
	// resubscribe can recover.
	Recoverable bool
	// Offset and Epoch are the stream position the subscription starts from.
	Offset uint64
	Epoch  string
}

// UnsubscribedEvent is passed to SubscriptionHandlers.OnUnsubscribed when a
// subscription ends: by Unsubscribe, by the server, or because the server
// refused to renew it after a reconnect.
type UnsubscribedEvent struct {
	Channel string
	// Code and Reason are the server's when it ended the subscription
	// (0 and "unsubscribed by the client" after Unsubscribe).
	Code   int
	Reason string
	// Err is the server's refusal when a resubscribe failed, else nil.
	Err error
}

// PresenceEvent is passed to SubscriptionHandlers.OnJoin and OnLeave.
type PresenceEvent struct {
	Channel string
	Client  ClientInfo
}

// publicationFrom converts a publication of the wire format.
func publicationFrom(channel string, p *protocol.Publication) Publication {
	return Publication{
		Channel: channel, Offset: p.Offset, Data: p.Data, Binary: p.Binary, Info: p.Info, Key: p.Key,
		Time: unixMilli(p.Time),
	}
}

func unixMilli(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}
