package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	segjson "github.com/segmentio/encoding/json"
)

// Command ops sent by clients.
const (
	OpConnect     = "connect"
	OpSubscribe   = "subscribe"
	OpUnsubscribe = "unsubscribe"
	OpPublish     = "publish"
	OpRPC         = "rpc"
	OpPresence    = "presence"
	OpHistory     = "history"
	OpRefresh     = "refresh"
	OpSend        = "send"
	OpPong        = "pong"
)

// Push ops sent by the server.
const (
	OpPub         = "pub"
	OpJoin        = "join"
	OpLeave       = "leave"
	OpSub         = "sub"
	OpUnsub       = "unsub"
	OpMessage     = "message"
	OpPing        = "ping"
	OpRefreshPush = "refresh" // the server asks for a refresh command
	OpDisconnect  = "disconnect"
)

// MaxNestingDepth bounds how deeply JSON objects and arrays may nest inside
// one message. Deeper input is rejected before it is decoded.
const MaxNestingDepth = 64

// StreamPosition names a place in a channel's stream: an offset within one
// epoch (one generation of the stream's history).
type StreamPosition struct {
	Offset uint64 `json:"offset"`
	Epoch  string `json:"epoch"`
}

// Command is one client-to-server message. It is flat: each op reads the
// fields it needs and ignores the rest, so a decoder never has to look at
// `op` before decoding.
type Command struct {
	ID uint64 `json:"id,omitempty"`
	Op string `json:"op"`

	// connect, refresh
	Token   string `json:"token,omitempty"`
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
	// connect: positions of server-side subscriptions to recover, by channel
	Subs map[string]*StreamPosition `json:"subs,omitempty"`

	// subscribe, unsubscribe, publish, presence, history
	Channel  string `json:"channel,omitempty"`
	Recover  bool   `json:"recover,omitempty"`
	Offset   uint64 `json:"offset,omitempty"`
	Epoch    string `json:"epoch,omitempty"`
	Presence bool   `json:"presence,omitempty"`

	// publish: idempotency key
	Key string `json:"key,omitempty"`

	// rpc
	Method string `json:"method,omitempty"`

	// history
	Since   *StreamPosition `json:"since,omitempty"`
	Limit   int             `json:"limit,omitempty"`
	Reverse bool            `json:"reverse,omitempty"`

	// connect, publish, rpc, send: application data, any JSON value; in
	// a publish, raw bytes instead when Binary is set.
	Data json.RawMessage `json:"data,omitempty"`
	// publish: Data is binary. In JSON, data is then a base64 string
	// (standard alphabet, padded), which DecodeCommand decodes into Data;
	// in MessagePack, data is bin.
	Binary bool `json:"binary,omitempty"`
}

// Decoding errors. Each one is a protocol violation: the server closes the
// connection with CloseBadRequest.
var (
	ErrEmptyMessage = errors.New("protocol: empty message")
	ErrTooDeep      = fmt.Errorf("protocol: message nested deeper than %d levels", MaxNestingDepth)
	ErrMissingOp    = errors.New("protocol: message has no op")
	ErrMissingID    = errors.New("protocol: command needs a positive id")
	ErrNotAnObject  = errors.New("protocol: message is not a JSON object")
	ErrInvalidJSON  = errors.New("protocol: malformed JSON")
	// ErrInvalidField is returned for well-formed JSON with a field of the
	// wrong type. Unlike the others it is answered, not fatal: the command
	// decoded far enough to have its id.
	ErrInvalidField  = errors.New("protocol: invalid field")
	errUnexpectedEnd = errors.New("protocol: unexpected end of input")
)

// NeedsID reports whether op is a command that must carry an id (every
// command but send and pong; unknown ops too, so that they can be answered).
func NeedsID(op string) bool { return op != OpSend && op != OpPong }

// KnownCommand reports whether op is a command this protocol version defines.
func KnownCommand(op string) bool {
	switch op {
	case OpConnect, OpSubscribe, OpUnsubscribe, OpPublish, OpRPC, OpPresence,
		OpHistory, OpRefresh, OpSend, OpPong:
		return true
	}
	return false
}

// DecodeCommand decodes one message into cmd, which it resets first. It
// rejects what is not a JSON object, JSON nested deeper than MaxNestingDepth,
// a message without op, and a command without the id it needs. An unknown op
// with an id decodes without error: the server answers it with
// CodeBadRequest, so that newer clients can probe older servers.
func DecodeCommand(msg []byte, cmd *Command) error {
	return decodeCommandWith(unmarshalCommand, msg, cmd)
}

// unmarshalCommand decodes with segmentio's encoding/json, which accepts
// what the standard library accepts, into the same command, in under half
// the time and allocations and without the deep reflection stack that made
// every handler goroutine grow its stack. A message it refuses is decoded
// again by the standard library, whose partial result and error the server
// answers with: past a field of the wrong type it still fills in the id
// and op, so the client gets an error reply instead of a closed
// connection. FuzzDecodeCommandMatchesStdlib holds the pair to the
// standard library's behaviour on any input.
//
// A message with a run of 20 or more digits goes to the standard library
// at once: segmentio v0.5.4 lets some 20-digit numbers past uint64's
// maximum wrap around instead of refusing them (the fuzz target found
// {"id":21000000000000000000} decoded as another id).
func unmarshalCommand(msg []byte, cmd *Command) error {
	if !hasLongDigitRun(msg) && segjson.Unmarshal(msg, cmd) == nil {
		return nil
	}
	*cmd = Command{}
	return json.Unmarshal(msg, cmd)
}

// decodeCommandWith is DecodeCommand with the given JSON decoder.
func decodeCommandWith(unmarshal func([]byte, *Command) error, msg []byte, cmd *Command) error {
	*cmd = Command{}
	msg = bytes.TrimSpace(msg)
	if len(msg) == 0 {
		return ErrEmptyMessage
	}
	if msg[0] != '{' {
		return ErrNotAnObject
	}
	if TooDeep(msg, MaxNestingDepth) {
		return ErrTooDeep
	}
	if err := unmarshal(msg, cmd); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && cmd.Op != "" && (cmd.ID != 0 || !NeedsID(cmd.Op)) {
			return fmt.Errorf("%w: %s must be %s", ErrInvalidField, typeErr.Field, typeErr.Type.Kind())
		}
		return fmt.Errorf("%w: %v", ErrInvalidJSON, err)
	}
	if cmd.Op == "" {
		return ErrMissingOp
	}
	if cmd.ID == 0 && NeedsID(cmd.Op) {
		return ErrMissingID
	}
	if cmd.Binary {
		return decodeBase64Data(cmd)
	}
	return nil
}

// errBinaryNotPublish is what the decoders return for binary data on a
// command other than publish: the handlers of the others take JSON.
var errBinaryNotPublish = errors.New(`"binary" is only for publish`)

// errNotBinary is what DecodeCommand returns for a JSON command that says
// binary without base64 data.
var errNotBinary = errors.New(`data must be a base64 string when "binary" is true`)

// decodeBase64Data replaces the base64 string in a binary command's data
// with the bytes it encodes.
func decodeBase64Data(cmd *Command) error {
	if cmd.Op != OpPublish {
		cmd.Binary, cmd.Data = false, nil
		return fmt.Errorf("%w: %v", ErrInvalidField, errBinaryNotPublish)
	}
	if len(cmd.Data) == 0 {
		return nil
	}
	var raw []byte
	if cmd.Data[0] != '"' || json.Unmarshal(cmd.Data, &raw) != nil {
		cmd.Data = nil
		return fmt.Errorf("%w: %v", ErrInvalidField, errNotBinary)
	}
	cmd.Data = raw
	return nil
}

// SplitMessages calls fn for each newline-separated message in frame, in
// order, skipping empty lines. It stops at the first error fn returns.
// AppendJoined builds such a frame.
func SplitMessages(frame []byte, fn func(msg []byte) error) error {
	for len(frame) > 0 {
		i := bytes.IndexByte(frame, '\n')
		var msg []byte
		if i < 0 {
			msg, frame = frame, nil
		} else {
			msg, frame = frame[:i], frame[i+1:]
		}
		if len(bytes.TrimSpace(msg)) == 0 {
			continue
		}
		if err := fn(msg); err != nil {
			return err
		}
	}
	return nil
}

// AppendJoined appends msgs to dst separated by newlines, one frame that
// SplitMessages takes apart again into the same messages, provided none
// contains a newline or is only white space (compact JSON never is). It
// stops before the message that would make the appended bytes exceed limit,
// but always takes the first, whatever its size, so that a caller looping
// over a queue makes progress; limit <= 0 means no bound. It returns the
// extended slice and how many messages it took. Passing a reused buffer's
// dst[:0] allocates nothing once the buffer has grown.
func AppendJoined(dst []byte, msgs [][]byte, limit int) ([]byte, int) {
	start := len(dst)
	n := 0
	for _, m := range msgs {
		if n > 0 {
			if limit > 0 && len(dst)-start+1+len(m) > limit {
				break
			}
			dst = append(dst, '\n')
		}
		dst = append(dst, m...)
		n++
	}
	return dst, n
}

// TooDeep reports whether objects and arrays in b nest deeper than limit.
// It scans once and skips string contents, including escaped quotes;
// malformed JSON is left to the decoder.
func TooDeep(b []byte, limit int) bool {
	depth := 0
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > limit {
				return true
			}
		case '}', ']':
			depth--
		}
	}
	return false
}

// hasLongDigitRun reports whether msg holds 20 or more digits in a row: a
// number that may not fit in a uint64 (whose maximum has 20 digits).
func hasLongDigitRun(msg []byte) bool {
	run := 0
	for _, b := range msg {
		if b >= '0' && b <= '9' {
			run++
			if run >= 20 {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}
