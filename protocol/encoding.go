package protocol

// Encoding is a wire encoding of protocol messages: JSON (text frames, the
// default) or Protobuf (binary frames), chosen per connection by the
// WebSocket subprotocol (docs/protocol.md, section 2.7). Its methods encode
// and decode in that encoding, so that a server or a client holds one
// Encoding per connection and never branches on it itself.
type Encoding uint8

// The encodings.
const (
	// JSON is protocol v1's text encoding: one JSON object per message,
	// several joined by newlines in one text frame.
	JSON Encoding = iota
	// Protobuf is the binary encoding (herald.proto): one Protobuf message
	// per message, each behind its length as a varint, several in one
	// binary frame, with publication data as raw bytes.
	Protobuf
)

// WebSocket subprotocols that choose an encoding. A client that offers
// neither (or offers none at all) speaks JSON.
const (
	SubprotocolJSON     = "herald.json"
	SubprotocolProtobuf = "herald.protobuf"
)

// Subprotocols lists the subprotocols a server accepts, in its order of
// preference: offered both, it picks Protobuf.
var Subprotocols = []string{SubprotocolProtobuf, SubprotocolJSON}

// EncodingOf returns the encoding a negotiated subprotocol selects:
// Protobuf for SubprotocolProtobuf, JSON for anything else ("" included).
func EncodingOf(subprotocol string) Encoding {
	if subprotocol == SubprotocolProtobuf {
		return Protobuf
	}
	return JSON
}

// String returns "json" or "protobuf".
func (e Encoding) String() string {
	if e == Protobuf {
		return "protobuf"
	}
	return "json"
}

// Subprotocol returns the WebSocket subprotocol that selects e.
func (e Encoding) Subprotocol() string {
	if e == Protobuf {
		return SubprotocolProtobuf
	}
	return SubprotocolJSON
}

// Binary reports whether the encoding's messages travel in binary frames.
// Each Encoding method that encodes a server message returns it ready to
// be joined into a frame: in Protobuf, behind its length prefix.
func (e Encoding) Binary() bool { return e == Protobuf }

// DecodeCommand decodes one message in this encoding (see DecodeCommand
// and DecodeCommandProtobuf, which fail in the same ways).
func (e Encoding) DecodeCommand(msg []byte, cmd *Command) error {
	if e == Protobuf {
		return DecodeCommandProtobuf(msg, cmd)
	}
	return DecodeCommand(msg, cmd)
}

// SplitMessages calls fn for each message of a frame in this encoding: the
// newline-separated JSON messages, or the length-prefixed Protobuf ones
// (whose framing errors it returns itself, wrapping ErrInvalidProtobuf).
func (e Encoding) SplitMessages(frame []byte, fn func(msg []byte) error) error {
	if e == Protobuf {
		return SplitProtobuf(frame, fn)
	}
	return SplitMessages(frame, fn)
}

// AppendJoined joins encoded msgs into one frame of this encoding, as
// AppendJoined (JSON) does: Protobuf messages, which carry their length
// prefix, are concatenated instead of newline-separated.
func (e Encoding) AppendJoined(dst []byte, msgs [][]byte, limit int) ([]byte, int) {
	if e == Protobuf {
		return appendConcatenated(dst, msgs, limit)
	}
	return AppendJoined(dst, msgs, limit)
}

// AppendPub appends the `pub` push in this encoding (see AppendPub and
// AppendPubProtobuf).
func (e Encoding) AppendPub(dst []byte, channel string, pub *Publication, epoch string) []byte {
	if e == Protobuf {
		return AppendPubProtobuf(dst, channel, pub, epoch)
	}
	return AppendPub(dst, channel, pub, epoch)
}

// EncodeReply encodes r in this encoding.
func (e Encoding) EncodeReply(r *Reply) ([]byte, error) {
	if e == Protobuf {
		return EncodeReplyProtobuf(r)
	}
	return EncodeReply(r)
}

// EncodePush encodes p in this encoding.
func (e Encoding) EncodePush(p *Push) []byte {
	if e == Protobuf {
		return EncodePushProtobuf(p)
	}
	return EncodePush(p)
}

// DisconnectPush returns the `disconnect` push for code in this encoding.
func (e Encoding) DisconnectPush(code int, reason string) []byte {
	if e == Protobuf {
		return DisconnectPushProtobuf(code, reason)
	}
	return DisconnectPush(code, reason)
}

// PingPush returns the `ping` push in this encoding. The caller must not
// modify it.
func (e Encoding) PingPush() []byte {
	if e == Protobuf {
		return PingPushProtobuf
	}
	return PingPush
}

// appendConcatenated is AppendJoined without separators, for
// self-delimiting messages.
func appendConcatenated(dst []byte, msgs [][]byte, limit int) ([]byte, int) {
	start := len(dst)
	n := 0
	for _, m := range msgs {
		if n > 0 && limit > 0 && len(dst)-start+len(m) > limit {
			break
		}
		dst = append(dst, m...)
		n++
	}
	return dst, n
}
