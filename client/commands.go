package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/heraldrt/herald/protocol"
)

// PublishResult is the place a publication took in its channel's stream
// (zero for channels without history).
type PublishResult struct {
	// Offset is the publication's offset in the channel's stream.
	Offset uint64
	// Epoch names the stream's generation.
	Epoch string
}

// Publish publishes data to channel and waits for the server to accept it,
// bounded by ctx (while the client is connecting, it waits for the
// connection). data is encoded with encoding/json, except json.RawMessage
// and []byte, which must hold JSON and are sent as they are (PublishBytes
// publishes raw bytes). The publisher receives its own publication too when
// it is subscribed to the channel.
//
// If the connection drops before the reply, Publish returns an error
// wrapping ErrConnectionLost: the publication may or may not have happened.
// Publish with WithKey to make a retry safe.
func (c *Client) Publish(ctx context.Context, channel string, data any, opts ...PublishOption) (PublishResult, error) {
	if channel == "" {
		return PublishResult{}, ErrInvalidChannel
	}
	raw, err := encodeData(data)
	if err != nil {
		return PublishResult{}, err
	}
	if raw == nil {
		raw = json.RawMessage("null")
	}
	return c.publish(ctx, &protocol.Command{Op: protocol.OpPublish, Channel: channel, Data: raw}, opts)
}

// PublishBytes publishes data, raw bytes of any format (an image, a
// Protobuf message of the application's, text that is not JSON), to
// channel, as Publish publishes JSON: a binary publication, which
// subscribers receive with Publication.Binary set and Data holding the same
// bytes, whatever encoding or transport they use. On the binary encoding
// the bytes travel as they are; on JSON, in base64 (docs/protocol.md,
// section 2.7). Zero bytes (nil too) are a publication of zero bytes. The
// client does not keep data past the call.
func (c *Client) PublishBytes(ctx context.Context, channel string, data []byte, opts ...PublishOption) (PublishResult, error) {
	if channel == "" {
		return PublishResult{}, ErrInvalidChannel
	}
	raw := append(json.RawMessage{}, data...)
	return c.publish(ctx, &protocol.Command{Op: protocol.OpPublish, Channel: channel, Data: raw, Binary: true}, opts)
}

// publish sends a publish command with opts and returns its result.
func (c *Client) publish(ctx context.Context, cmd *protocol.Command, opts []PublishOption) (PublishResult, error) {
	var o publishOptions
	for _, fn := range opts {
		fn(&o)
	}
	cmd.Key = o.key
	var res protocol.PublishResult
	if err := c.call(ctx, "publish to "+strconv.Quote(cmd.Channel), cmd, &res); err != nil {
		return PublishResult{}, err
	}
	return PublishResult{Offset: res.Offset, Epoch: res.Epoch}, nil
}

// RPC calls the server's handler for method with data (encoded as for
// Publish; nil sends no data) and returns the handler's result as JSON
// (nil when it returned none). It waits for the reply until ctx ends; when
// ctx ends first, it returns an error wrapping ctx.Err() and the late reply
// is dropped. An unknown method returns an error matching ErrMethodNotFound;
// an application error returned by the handler is an *Error with its code.
func (c *Client) RPC(ctx context.Context, method string, data any) (json.RawMessage, error) {
	raw, err := encodeData(data)
	if err != nil {
		return nil, err
	}
	var res protocol.RPCResult
	if err := c.call(ctx, "rpc "+strconv.Quote(method), &protocol.Command{Op: protocol.OpRPC, Method: method, Data: raw}, &res); err != nil {
		return nil, err
	}
	return res.Data, nil
}

// Send sends data (encoded as for Publish) to the server's OnMessage
// handler. There is no reply: Send returns once the message is queued on the
// connection (waiting for one while connecting, bounded by ctx), and a
// message queued on a connection that then drops is lost.
func (c *Client) Send(ctx context.Context, data any) error {
	raw, err := encodeData(data)
	if err != nil {
		return err
	}
	cmd := &protocol.Command{Op: protocol.OpSend, Data: raw}
	for {
		cn, err := c.waitConn(ctx)
		if err != nil {
			return fmt.Errorf("herald client: send: %w", err)
		}
		if err := cn.post(cmd); !errors.Is(err, errConnClosed) {
			return err
		}
	}
}

// HistoryResult is what History returns: publications and the channel's
// current stream position.
type HistoryResult struct {
	// Offset and Epoch are the channel's current stream position.
	Offset uint64
	Epoch  string
	// Publications are the selected publications, oldest first (newest
	// first with Reverse).
	Publications []Publication
}

// History returns publications kept in channel's history. The server must
// keep history (otherwise the error matches ErrNotAvailable).
func (c *Client) History(ctx context.Context, channel string, opts HistoryOptions) (HistoryResult, error) {
	if channel == "" {
		return HistoryResult{}, ErrInvalidChannel
	}
	cmd := &protocol.Command{
		Op: protocol.OpHistory, Channel: channel,
		Since: opts.Since, Limit: opts.Limit, Reverse: opts.Reverse,
	}
	var res protocol.HistoryResult
	if err := c.call(ctx, "history of "+strconv.Quote(channel), cmd, &res); err != nil {
		return HistoryResult{}, err
	}
	out := HistoryResult{Offset: res.Offset, Epoch: res.Epoch, Publications: make([]Publication, 0, len(res.Publications))}
	for _, p := range res.Publications {
		out.Publications = append(out.Publications, publicationFrom(channel, p))
	}
	return out, nil
}

// PresenceResult is what Presence returns: the connections subscribed to
// a channel now, on every node, by client id (the asking one included).
type PresenceResult struct {
	Clients map[string]PresenceInfo
}

// PresenceInfo is one connection in a PresenceResult: its user ("" for
// anonymous) and the connection info the server's OnConnect set.
type PresenceInfo struct {
	User string
	Info json.RawMessage
}

// Presence returns who is subscribed to channel now. The channel's
// namespace must keep presence (otherwise the error matches
// ErrNotAvailable). Presence is a snapshot: apply OnJoin and OnLeave on top
// of it, by client id.
func (c *Client) Presence(ctx context.Context, channel string) (PresenceResult, error) {
	if channel == "" {
		return PresenceResult{}, ErrInvalidChannel
	}
	var res protocol.PresenceResult
	if err := c.call(ctx, "presence of "+strconv.Quote(channel), &protocol.Command{Op: protocol.OpPresence, Channel: channel}, &res); err != nil {
		return PresenceResult{}, err
	}
	out := PresenceResult{Clients: make(map[string]PresenceInfo, len(res.Clients))}
	for id, p := range res.Clients {
		if p != nil {
			out.Clients[id] = PresenceInfo{User: p.User, Info: p.Info}
		}
	}
	return out, nil
}

// encodeData turns a command's data into compact JSON (see
// protocol.EncodeData); a value that is not JSON is ErrInvalidData.
func encodeData(v any) (json.RawMessage, error) {
	out, err := protocol.EncodeData(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidData, err)
	}
	return out, nil
}

// decodeResult decodes the result of rf, if it has one, into v.
func decodeResult(rf *protocol.ReplyFrame, v any) error {
	if len(rf.Result) == 0 {
		return nil
	}
	if err := json.Unmarshal(rf.Result, v); err != nil {
		return fmt.Errorf("herald client: malformed result from the server: %w", err)
	}
	return nil
}
