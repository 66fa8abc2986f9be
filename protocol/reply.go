package protocol

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Error is the error object of a reply: a code from the table in codes.go (or
// 1000 and up for applications) and a message for people. It implements error,
// so servers can return it from handlers and clients can match it with
// errors.As.
type Error struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Error implements error.
func (e *Error) Error() string {
	return "herald: " + e.Message + " (code " + strconv.Itoa(e.Code) + ")"
}

// NewError returns an *Error with code and its standard message, or msg when
// one is given.
func NewError(code int, msg ...string) *Error {
	m := ErrorMessage(code)
	if len(msg) > 0 && msg[0] != "" {
		m = msg[0]
	}
	if m == "" {
		m = "error " + strconv.Itoa(code)
	}
	return &Error{Code: code, Message: m}
}

// Reply answers one command. Exactly one of Result and Error is set, except
// for commands whose result is empty, which carry `"result":{}`.
type Reply struct {
	ID     uint64 `json:"id"`
	Result any    `json:"result,omitempty"`
	Error  *Error `json:"error,omitempty"`
}

// ClientInfo describes a connection to others: in publications (who
// published), presence and join/leave pushes.
type ClientInfo struct {
	Client string          `json:"client"`
	User   string          `json:"user"`
	Data   json.RawMessage `json:"data,omitempty"`
}

// Publication is one message in a channel's stream, as clients see it.
// Its JSON form (MarshalJSON, UnmarshalJSON) carries binary data as base64
// with "binary":true; brokers store it so.
type Publication struct {
	Offset uint64 `json:"offset,omitempty"`
	// Data is JSON text, or raw bytes when Binary is set.
	Data json.RawMessage `json:"data"`
	Info *ClientInfo     `json:"info,omitempty"`
	Key  string          `json:"key,omitempty"`
	// Time is when the publication entered the node, in Unix milliseconds.
	Time int64 `json:"time,omitempty"`
	// Binary says that Data is raw bytes, not JSON.
	Binary bool `json:"binary,omitempty"`
}

// ConnectResult is the result of connect.
type ConnectResult struct {
	Client  string          `json:"client"`
	Node    string          `json:"node"`
	User    string          `json:"user"`
	Ping    int             `json:"ping"`
	Expires int64           `json:"expires"`
	Data    json.RawMessage `json:"data,omitempty"`
	// Subs lists the server-side subscriptions made at connect, by channel.
	Subs map[string]*SubscribeResult `json:"subs,omitempty"`
}

// SubscribeResult is the result of subscribe and the body of a `sub` push.
type SubscribeResult struct {
	Offset       uint64         `json:"offset,omitempty"`
	Epoch        string         `json:"epoch,omitempty"`
	Recoverable  bool           `json:"recoverable,omitempty"`
	Recovered    bool           `json:"recovered,omitempty"`
	Publications []*Publication `json:"publications,omitempty"`
}

// PublishResult is the result of publish: the publication's place in the
// channel's stream (zero offset for channels without history).
type PublishResult struct {
	Offset uint64 `json:"offset,omitempty"`
	Epoch  string `json:"epoch,omitempty"`
}

// RPCResult is the result of rpc.
type RPCResult struct {
	Data json.RawMessage `json:"data,omitempty"`
}

// PresenceInfo is one present client in a presence result.
type PresenceInfo struct {
	User string          `json:"user"`
	Info json.RawMessage `json:"info,omitempty"`
}

// PresenceResult is the result of presence: the clients present, by client
// id.
type PresenceResult struct {
	Clients map[string]*PresenceInfo `json:"clients"`
}

// HistoryResult is the result of history.
type HistoryResult struct {
	Offset       uint64         `json:"offset"`
	Epoch        string         `json:"epoch"`
	Publications []*Publication `json:"publications"`
}

// RefreshResult is the result of refresh.
type RefreshResult struct {
	Expires int64 `json:"expires"`
}

// Empty is the result of commands that return nothing but success.
type Empty struct{}

// EncodeReply returns the JSON encoding of r. It stays on encoding/json,
// unlike DecodeCommand: segmentio's encoder (v0.5.4) writes a
// json.RawMessage with trailing bytes, such as `1x` or `[1]]`, as its first
// value instead of refusing it, which would silently change data.
func EncodeReply(r *Reply) ([]byte, error) {
	if r.Error == nil && r.Result == nil {
		r.Result = Empty{}
	}
	if res, ok := r.Result.(*SubscribeResult); ok && res != nil && r.Error == nil {
		return appendSubscribeReply(make([]byte, 0, subscribeReplySize(res)), r.ID, res), nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("protocol: encode reply to %d: %w", r.ID, err)
	}
	return b, nil
}

// ReplyFrame is the shape of every server-to-client message, used by
// decoders (client SDKs and tests): a reply when ID is set, a push otherwise.
type ReplyFrame struct {
	ID     uint64          `json:"id,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *Error          `json:"error,omitempty"`

	// Push fields.
	Op        string          `json:"op,omitempty"`
	Channel   string          `json:"channel,omitempty"`
	Offset    uint64          `json:"offset,omitempty"`
	Epoch     string          `json:"epoch,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
	Info      *ClientInfo     `json:"info,omitempty"`
	Key       string          `json:"key,omitempty"`
	Time      int64           `json:"time,omitempty"`
	Code      int             `json:"code,omitempty"`
	Reason    string          `json:"reason,omitempty"`
	Reconnect bool            `json:"reconnect,omitempty"`
	// Binary says that Data is a binary publication's bytes. After
	// DecodeReplyFrame or DecodeReplyFrameProtobuf, Data then holds the
	// raw bytes (the JSON form's base64 decoded).
	Binary bool `json:"binary,omitempty"`

	// sub push: the subscribe result fields.
	Recoverable  bool           `json:"recoverable,omitempty"`
	Recovered    bool           `json:"recovered,omitempty"`
	Publications []*Publication `json:"publications,omitempty"`
}
