package bench

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/heraldrt/herald/internal/wsframe"
	"github.com/heraldrt/herald/protocol"
)

// Kinds of incoming message.
const (
	evOther = iota
	evReply
	evPub
	evPing
	evDisconnect
)

// event is one decoded incoming message.
type event struct {
	kind int
	id   uint64
	err  string // a reply's or a disconnect's error, "" when none
	data []byte // a pub's data
}

// codec speaks one server's client protocol, in one encoding.
type codec interface {
	// subprotocol is the WebSocket subprotocol to offer ("" for none).
	subprotocol() string
	// opcode is the frame type of the client's messages.
	opcode() byte
	// split calls fn for each message of a frame.
	split(frame []byte, fn func(msg []byte) error) error
	// connectSubscribe is the frame that connects (id 1) and subscribes to
	// channel (id 2), batched on one line each.
	connectSubscribe(channel string) []byte
	// appendPublish appends a publish command.
	appendPublish(b []byte, id uint64, channel string, data []byte) []byte
	// pong is the answer to a protocol ping.
	pong() []byte
	// parse decodes one message (one line of a frame).
	parse(msg []byte) event
}

// newCodec returns the codec of target in encoding.
func newCodec(target, encoding string) codec {
	switch {
	case target == targetCentrifugo:
		return centrifugoCodec{}
	case encoding == encodingProtobuf:
		return heraldProtobufCodec{}
	}
	return heraldCodec{}
}

// jsonFrames is what the JSON codecs share: newline-joined messages in
// text frames, and no subprotocol.
type jsonFrames struct{}

func (jsonFrames) subprotocol() string { return "" }
func (jsonFrames) opcode() byte        { return wsframe.OpText }
func (jsonFrames) split(frame []byte, fn func(msg []byte) error) error {
	return protocol.SplitMessages(frame, fn)
}

func itoa(i int) string { return strconv.Itoa(i) }

// heraldCodec speaks Herald protocol v1 in JSON (docs/protocol.md).
type heraldCodec struct{ jsonFrames }

func (heraldCodec) connectSubscribe(channel string) []byte {
	b := []byte(`{"id":1,"op":"connect","name":"herald-bench"}` + "\n" + `{"id":2,"op":"subscribe","channel":`)
	b = protocol.AppendString(b, channel)
	return append(b, '}')
}

func (heraldCodec) appendPublish(b []byte, id uint64, channel string, data []byte) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendUint(b, id, 10)
	b = append(b, `,"op":"publish","channel":`...)
	b = protocol.AppendString(b, channel)
	b = append(b, `,"data":`...)
	b = append(b, data...)
	return append(b, '}')
}

func (heraldCodec) pong() []byte { return []byte(`{"op":"pong"}`) }

var (
	hPub  = []byte(`{"op":"pub"`)
	hData = []byte(`"data":`)
	hPing = []byte(`{"op":"ping"}`)
)

func (heraldCodec) parse(msg []byte) event {
	if bytes.HasPrefix(msg, hPub) {
		if i := bytes.Index(msg, hData); i >= 0 {
			return event{kind: evPub, data: msg[i+len(hData):]}
		}
	}
	if bytes.Equal(msg, hPing) {
		return event{kind: evPing}
	}
	var m struct {
		ID    uint64          `json:"id"`
		Op    string          `json:"op"`
		Error *wireError      `json:"error"`
		Data  json.RawMessage `json:"data"`
		Code  int             `json:"code"`
	}
	if json.Unmarshal(msg, &m) != nil {
		return event{}
	}
	switch {
	case m.ID != 0:
		return event{kind: evReply, id: m.ID, err: m.Error.String()}
	case m.Op == "pub":
		return event{kind: evPub, data: m.Data}
	case m.Op == "ping":
		return event{kind: evPing}
	case m.Op == "disconnect":
		return event{kind: evDisconnect, err: "disconnect " + strconv.Itoa(m.Code)}
	}
	return event{}
}

// wireError is an error object of either protocol.
type wireError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// String is "code message", or "" for nil.
func (e *wireError) String() string {
	if e == nil {
		return ""
	}
	return "error " + strconv.Itoa(e.Code) + " " + e.Message
}

// centrifugoCodec speaks Centrifugo v6's JSON client protocol: commands
// {"id":N,"connect":{}}, replies {"id":N,"<method>":{...}} or
// {"id":N,"error":{...}}, pushes {"push":{"channel":...,"pub":{"data":...}}},
// and an empty object {} as ping, answered with {}.
type centrifugoCodec struct{ jsonFrames }

func (centrifugoCodec) connectSubscribe(channel string) []byte {
	b := []byte(`{"id":1,"connect":{"name":"herald-bench"}}` + "\n" + `{"id":2,"subscribe":{"channel":`)
	b = protocol.AppendString(b, channel)
	return append(b, '}', '}')
}

func (centrifugoCodec) appendPublish(b []byte, id uint64, channel string, data []byte) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendUint(b, id, 10)
	b = append(b, `,"publish":{"channel":`...)
	b = protocol.AppendString(b, channel)
	b = append(b, `,"data":`...)
	b = append(b, data...)
	return append(b, '}', '}')
}

func (centrifugoCodec) pong() []byte { return []byte(`{}`) }

var (
	cPush = []byte(`{"push":`)
	cPub  = []byte(`"pub":{`)
)

func (centrifugoCodec) parse(msg []byte) event {
	if len(bytes.TrimSpace(msg)) == 2 && bytes.Equal(bytes.TrimSpace(msg), []byte("{}")) {
		return event{kind: evPing}
	}
	if bytes.HasPrefix(msg, cPush) {
		if i := bytes.Index(msg, cPub); i >= 0 {
			if j := bytes.Index(msg[i:], hData); j >= 0 {
				return event{kind: evPub, data: msg[i+j+len(hData):]}
			}
		}
	}
	var m struct {
		ID    uint64     `json:"id"`
		Error *wireError `json:"error"`
		Push  *struct {
			Pub *struct {
				Data json.RawMessage `json:"data"`
			} `json:"pub"`
			Disconnect *wireError `json:"disconnect"`
		} `json:"push"`
	}
	if json.Unmarshal(msg, &m) != nil {
		return event{}
	}
	switch {
	case m.ID != 0:
		return event{kind: evReply, id: m.ID, err: m.Error.String()}
	case m.Push != nil && m.Push.Pub != nil:
		return event{kind: evPub, data: m.Push.Pub.Data}
	case m.Push != nil && m.Push.Disconnect != nil:
		return event{kind: evDisconnect, err: "disconnect " + strconv.Itoa(m.Push.Disconnect.Code)}
	}
	return event{}
}
