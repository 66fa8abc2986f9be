package client

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/heraldrt/herald/protocol"
)

// Encoding names how protocol messages travel on a WebSocket: as JSON in
// text frames, or in the binary encoding (Protobuf, docs/protocol.md
// section 2.7) in binary frames, where publication data is raw bytes. The
// server chooses from what the client offers in the WebSocket subprotocol.
// The fallback transports (HTTP-streaming, Server-Sent Events) speak JSON
// only. Either way, PublishBytes publishes bytes and Publication.Binary
// tells bytes from JSON: the encoding changes the frames, not the API.
type Encoding string

// The encodings.
const (
	// EncodingAuto, the zero value, offers the binary encoding and JSON
	// and lets the server choose: a Herald server that speaks the binary
	// encoding picks it; one that answers without a subprotocol (a server
	// older than the binary encoding) speaks JSON, and so do the fallback
	// transports.
	EncodingAuto Encoding = ""
	// EncodingJSON speaks JSON only, on every transport: readable frames,
	// at the cost of base64 for binary publications.
	EncodingJSON Encoding = "json"
	// EncodingProtobuf speaks the binary encoding only: a server that does
	// not accept it fails the connection attempt (an error says so), and
	// the fallback transports, which are JSON only, are never tried. With
	// it, Options.Transport must be TransportAuto or TransportWebSocket.
	EncodingProtobuf Encoding = "protobuf"
)

// subprotocols returns what a WebSocket handshake offers for e, in the
// client's order of preference.
func (e Encoding) subprotocols() []string {
	switch e {
	case EncodingJSON:
		return []string{protocol.SubprotocolJSON}
	case EncodingProtobuf:
		return []string{protocol.SubprotocolProtobuf}
	default:
		return []string{protocol.SubprotocolProtobuf, protocol.SubprotocolJSON}
	}
}

// valid reports whether e is one of the encodings.
func (e Encoding) valid() bool {
	return e == EncodingAuto || e == EncodingJSON || e == EncodingProtobuf
}

// checkEncoding refuses an Options.Encoding that is not one of the
// encodings, or that no transport of Options.Transport speaks.
func checkEncoding(e Encoding, t Transport) error {
	if !e.valid() {
		return fmt.Errorf("herald client: unknown Options.Encoding %q (use EncodingAuto, EncodingJSON or EncodingProtobuf)", e)
	}
	if e == EncodingProtobuf && t != TransportAuto && t != TransportWebSocket {
		return fmt.Errorf("herald client: Options.Encoding %q needs a WebSocket, but Options.Transport is %q, which speaks JSON only", e, t)
	}
	return nil
}

// encodingName returns the Encoding that names a wire encoding.
func encodingName(e protocol.Encoding) Encoding {
	if e == protocol.Protobuf {
		return EncodingProtobuf
	}
	return EncodingJSON
}

// encodeCommand encodes cmd as one message of enc. A binary publish holds
// its raw bytes in cmd.Data: the binary encoding sends them as they are,
// JSON as a base64 string with "binary":true (docs/protocol.md, section
// 2.7). cmd itself is not modified, so that a command not sent on one
// connection can be encoded again for the next, whatever its encoding.
func encodeCommand(enc protocol.Encoding, cmd *protocol.Command) ([]byte, error) {
	if enc == protocol.Protobuf {
		return protocol.AppendCommandProtobuf(nil, cmd), nil
	}
	if cmd.Binary {
		text := *cmd
		text.Data = base64JSON(cmd.Data)
		cmd = &text
	}
	b, err := json.Marshal(cmd)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidData, err)
	}
	return b, nil
}

// base64JSON returns b as a JSON string holding its base64 (standard
// alphabet, padded): `""` for no bytes, never null, which would not be
// binary data.
func base64JSON(b []byte) json.RawMessage {
	out := make([]byte, 0, base64.StdEncoding.EncodedLen(len(b))+2)
	out = append(out, '"')
	out = base64.StdEncoding.AppendEncode(out, b)
	return append(out, '"')
}

// decodeMessage decodes one server message of enc into rf. A binary
// publication's data comes out as its raw bytes with rf.Binary set, from
// either encoding; results are JSON (see protocol.DecodeReplyFrameProtobuf).
func decodeMessage(enc protocol.Encoding, msg []byte, rf *protocol.ReplyFrame) error {
	if enc == protocol.Protobuf {
		return protocol.DecodeReplyFrameProtobuf(msg, rf)
	}
	return protocol.DecodeReplyFrame(msg, rf)
}
