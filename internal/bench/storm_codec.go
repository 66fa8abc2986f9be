package bench

import (
	"encoding/json"
	"strconv"

	"github.com/heraldrt/herald/protocol"
	segjson "github.com/segmentio/encoding/json"
)

// position is a place in a channel's stream, where a resubscribing client
// asks to recover from.
type position struct {
	Offset uint64 `json:"offset"`
	Epoch  string `json:"epoch"`
}

// recoveringCodec is what the storm scenario needs beyond codec: a
// connect and a subscribe that recovers from a position, batched in one
// frame. The JSON codecs of Herald and Centrifugo have it.
type recoveringCodec interface {
	connectRecover(channel string, from position) []byte
}

func (heraldCodec) connectRecover(channel string, from position) []byte {
	b := []byte(`{"id":1,"op":"connect","name":"herald-bench"}` + "\n" + `{"id":2,"op":"subscribe","channel":`)
	b = protocol.AppendString(b, channel)
	return appendRecoverFields(b, from, '}')
}

func (centrifugoCodec) connectRecover(channel string, from position) []byte {
	b := []byte(`{"id":1,"connect":{"name":"herald-bench"}}` + "\n" + `{"id":2,"subscribe":{"channel":`)
	b = protocol.AppendString(b, channel)
	return appendRecoverFields(b, from, '}', '}')
}

// appendRecoverFields appends the recover, offset and epoch fields (the
// same in both protocols) and the closing braces.
func appendRecoverFields(b []byte, from position, closing ...byte) []byte {
	b = append(b, `,"recover":true,"offset":`...)
	b = strconv.AppendUint(b, from.Offset, 10)
	b = append(b, `,"epoch":`...)
	b = protocol.AppendString(b, from.Epoch)
	return append(b, closing...)
}

// subscribeOutcome is what a subscribe reply says about the stream: the
// position, and whether (and with how many publications) it recovered.
type subscribeOutcome struct {
	position
	Recovered    bool              `json:"recovered"`
	Publications []json.RawMessage `json:"publications"`
}

// parseSubscribeOutcome reads a JSON subscribe reply of either protocol:
// Herald's {"id":2,"result":{...}} or Centrifugo's {"id":2,"subscribe":{...}}.
// Both name the fields alike. It decodes with segmentio's encoding/json,
// which the server's command decoder uses too: a recovery's reply carries
// --missed publications, and the standard library's two passes over them
// were a tenth of the load generator's CPU in a storm, on the core that
// bounds how fast a storm can go.
func parseSubscribeOutcome(msg []byte) subscribeOutcome {
	var m struct {
		Result    *subscribeOutcome `json:"result"`
		Subscribe *subscribeOutcome `json:"subscribe"`
	}
	if segjson.Unmarshal(msg, &m) != nil {
		return subscribeOutcome{}
	}
	switch {
	case m.Result != nil:
		return *m.Result
	case m.Subscribe != nil:
		return *m.Subscribe
	}
	return subscribeOutcome{}
}
