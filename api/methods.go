package api

import (
	"encoding/json"
	"net/http"
	"unicode/utf8"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/protocol"
)

// method answers one API method: it decodes the body and calls the Node.
type method func(h *Handler, r *http.Request) (any, error)

// methodList names the methods lookup knows, for the 404 message.
const methodList = "publish, broadcast, disconnect, channels, info, history, presence, subscribe, unsubscribe"

// lookup returns the method called name, or nil.
func lookup(name string) method {
	switch name {
	case "publish":
		return (*Handler).publish
	case "broadcast":
		return (*Handler).broadcast
	case "disconnect":
		return (*Handler).disconnect
	case "channels":
		return (*Handler).channels
	case "info":
		return (*Handler).info
	case "history":
		return (*Handler).history
	case "presence":
		return (*Handler).presence
	case "subscribe":
		return (*Handler).subscribe
	case "unsubscribe":
		return (*Handler).unsubscribe
	}
	return nil
}

// publishResult is a publication's place in its channel's stream; both
// fields are always present (0 and "" on a channel without history).
type publishResult struct {
	Offset uint64 `json:"offset"`
	Epoch  string `json:"epoch"`
}

type publishRequest struct {
	Channel string          `json:"channel"`
	Data    json.RawMessage `json:"data"`
	Key     string          `json:"key"`
	Binary  bool            `json:"binary"` // data is the base64 of bytes to publish
}

// publish: {channel, data, key?, binary?} -> {offset, epoch}; or the data's
// bytes as application/octet-stream, with channel and key in the query.
func (h *Handler) publish(r *http.Request) (any, error) {
	if isOctetStream(r) {
		return h.publishOctetStream(r)
	}
	var req publishRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	if req.Channel == "" {
		return nil, badRequest(`field "channel" is required`)
	}
	if len(req.Data) == 0 {
		return nil, badRequest(`field "data" is required (any JSON value)`)
	}
	if req.Binary {
		data, err := decodeBinaryData(req.Data)
		if err != nil {
			return nil, err
		}
		res, err := h.node.PublishBinary(r.Context(), req.Channel, data, publishOptions(req.Key)...)
		if err != nil {
			return nil, err
		}
		return publishResult{Offset: res.Offset, Epoch: res.Epoch}, nil
	}
	res, err := h.node.Publish(r.Context(), req.Channel, req.Data, publishOptions(req.Key)...)
	if err != nil {
		return nil, err
	}
	return publishResult{Offset: res.Offset, Epoch: res.Epoch}, nil
}

func publishOptions(key string) []herald.PublishOption {
	if key == "" {
		return nil
	}
	return []herald.PublishOption{herald.WithKey(key)}
}

type broadcastRequest struct {
	Channels []string        `json:"channels"`
	Data     json.RawMessage `json:"data"`
	Key      string          `json:"key"`
	Binary   bool            `json:"binary"` // data is the base64 of bytes to publish
}

// broadcastItem is one channel's outcome: a position or an error.
type broadcastItem struct {
	Channel string `json:"channel"`
	*publishResult
	Error *herald.Error `json:"error,omitempty"`
}

type broadcastResult struct {
	Results []broadcastItem `json:"results"`
}

// broadcast: {channels, data, key?} -> {results}, one per channel in order.
// Each channel succeeds or fails on its own.
func (h *Handler) broadcast(r *http.Request) (any, error) {
	var req broadcastRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	if len(req.Channels) == 0 {
		return nil, badRequest(`field "channels" is required (a non-empty array of channel names)`)
	}
	for i, ch := range req.Channels {
		if ch == "" {
			return nil, badRequest(`field "channels[%d]" must not be empty`, i)
		}
	}
	if len(req.Data) == 0 {
		return nil, badRequest(`field "data" is required (any JSON value)`)
	}
	var results []herald.BroadcastResult
	if req.Binary {
		data, err := decodeBinaryData(req.Data)
		if err != nil {
			return nil, err
		}
		results = h.node.BroadcastBinary(r.Context(), req.Channels, data, publishOptions(req.Key)...)
	} else {
		var err error
		if results, err = h.node.Broadcast(r.Context(), req.Channels, req.Data, publishOptions(req.Key)...); err != nil {
			return nil, err
		}
	}
	out := broadcastResult{Results: make([]broadcastItem, len(results))}
	for i, res := range results {
		out.Results[i].Channel = res.Channel
		if res.Err != nil {
			out.Results[i].Error = h.toProtocol(r, res.Err)
			continue
		}
		out.Results[i].publishResult = &publishResult{Offset: res.Offset, Epoch: res.Epoch}
	}
	return out, nil
}

// maxReasonBytes is the longest reason a WebSocket close frame carries.
const maxReasonBytes = 123

type disconnectRequest struct {
	User   string `json:"user"`
	Client string `json:"client"`
	Code   int    `json:"code"`
	Reason string `json:"reason"`
}

// disconnect: {user | client, code?, reason?} -> {}. Code 0 means 3004
// (force reconnect); others must be Herald's (3000-3999) or the
// application's (4000-4999).
func (h *Handler) disconnect(r *http.Request) (any, error) {
	var req disconnectRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	if req.User == "" && req.Client == "" {
		return nil, badRequest(`field "user" or "client" is required`)
	}
	if req.Code != 0 && (req.Code < 3000 || req.Code > 4999) {
		return nil, badRequest(`field "code" must be a close code from 3000 to 4999 (or absent for 3004), not %d`, req.Code)
	}
	if len(req.Reason) > maxReasonBytes || !utf8.ValidString(req.Reason) {
		return nil, badRequest(`field "reason" must be valid UTF-8 of at most %d bytes`, maxReasonBytes)
	}
	if err := h.node.Disconnect(r.Context(), req.User, req.Client, req.Code, req.Reason); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

type channelsRequest struct {
	Pattern string `json:"pattern"`
}

type channelsResult struct {
	Channels []herald.ChannelInfo `json:"channels"`
}

// channels: {pattern?} -> {channels: [{channel, subscribers}]}, the channels
// with subscribers on this node, sorted by name.
func (h *Handler) channels(r *http.Request) (any, error) {
	var req channelsRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	list, err := h.node.Channels(req.Pattern)
	if err != nil {
		return nil, err
	}
	if list == nil {
		list = []herald.ChannelInfo{}
	}
	return channelsResult{Channels: list}, nil
}

type infoResult struct {
	Nodes []herald.NodeInfo `json:"nodes"`
}

// info: {} -> {nodes: [...]}: every live node of the cluster (Node.Nodes),
// sorted by name.
func (h *Handler) info(r *http.Request) (any, error) {
	if err := decodeBody(r, &struct{}{}); err != nil {
		return nil, err
	}
	return infoResult{Nodes: h.node.Nodes()}, nil
}

type historyRequest struct {
	Channel string                   `json:"channel"`
	Since   *protocol.StreamPosition `json:"since"`
	Limit   int                      `json:"limit"`
	Reverse bool                     `json:"reverse"`
}

// history: {channel, since?, limit?, reverse?} -> {offset, epoch,
// publications}. A channel without history (a history size of 0 in its
// ChannelOptions) gives herald.ErrHistoryDisabled, which answers 400 with
// code 108.
func (h *Handler) history(r *http.Request) (any, error) {
	var req historyRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	if req.Channel == "" {
		return nil, badRequest(`field "channel" is required`)
	}
	if req.Limit < 0 {
		return nil, badRequest(`field "limit" must not be negative (0 means the channel's history size)`)
	}
	return h.node.History(r.Context(), req.Channel, herald.HistoryOptions{
		Since: req.Since, Limit: req.Limit, Reverse: req.Reverse,
	})
}

type channelRequest struct {
	Channel string `json:"channel"`
}

func (h *Handler) presence(r *http.Request) (any, error) {
	var req channelRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	if req.Channel == "" {
		return nil, badRequest(`field "channel" is required`)
	}
	clients, err := h.node.Presence(r.Context(), req.Channel)
	if err != nil {
		return nil, err
	}
	return &protocol.PresenceResult{Clients: clients}, nil
}

type userChannelRequest struct {
	User    string `json:"user"`
	Channel string `json:"channel"`
}

func decodeUserChannel(r *http.Request) (userChannelRequest, error) {
	var req userChannelRequest
	if err := decodeBody(r, &req); err != nil {
		return req, err
	}
	if req.User == "" {
		return req, badRequest(`field "user" is required`)
	}
	if req.Channel == "" {
		return req, badRequest(`field "channel" is required`)
	}
	return req, nil
}

// subscribe subscribes every connection of a user, on every node, and,
// with Config.PersistUserSubscriptions, the user's later connections (see
// herald.Node.Subscribe).
func (h *Handler) subscribe(r *http.Request) (any, error) {
	req, err := decodeUserChannel(r)
	if err != nil {
		return nil, err
	}
	if err := h.node.Subscribe(r.Context(), req.User, req.Channel); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// unsubscribe ends a user's subscription on every connection and node.
func (h *Handler) unsubscribe(r *http.Request) (any, error) {
	req, err := decodeUserChannel(r)
	if err != nil {
		return nil, err
	}
	if err := h.node.Unsubscribe(r.Context(), req.User, req.Channel); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}
