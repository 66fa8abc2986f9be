package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// ErrInvalidProtobuf is returned for input that is not well-formed in the
// Protobuf encoding: a length prefix or a field cut short, a malformed
// varint, field number 0, or a group (a wire type proto3 does not use).
// Like ErrInvalidJSON it closes the connection with CloseBadRequest.
var ErrInvalidProtobuf = errors.New("protocol: malformed Protobuf")

// SplitProtobuf calls fn for each message in a frame of the Protobuf
// encoding, in order: each message is preceded by its length as a varint,
// and fn gets the message without it. It stops at the first error fn
// returns. A length prefix that is malformed or promises more bytes than
// the frame holds ends the split with an error wrapping ErrInvalidProtobuf,
// after the messages before it. A zero length is an empty message, which
// fn gets (and which has no op). AppendJoined with Protobuf builds such a
// frame from encoded messages.
func SplitProtobuf(frame []byte, fn func(msg []byte) error) error {
	for len(frame) > 0 {
		size, n := protowire.ConsumeVarint(frame)
		if n < 0 {
			return fmt.Errorf("%w: a malformed length prefix", ErrInvalidProtobuf)
		}
		if size > uint64(len(frame)-n) {
			return fmt.Errorf("%w: a message is cut short (%d bytes promised, %d left)", ErrInvalidProtobuf, size, len(frame)-n)
		}
		end := n + int(size)
		if err := fn(frame[n:end]); err != nil {
			return err
		}
		frame = frame[end:]
	}
	return nil
}

// DecodeCommandProtobuf decodes one Command message of herald.proto (the
// bytes after its length prefix) into cmd, which it resets first. It fails
// as DecodeCommand does, with the same errors: ErrInvalidProtobuf for
// malformed input (the counterpart of ErrInvalidJSON), ErrMissingOp,
// ErrMissingID, and ErrInvalidField for a field of the wrong wire type, a
// string that is not valid UTF-8, or JSON data that is not valid JSON, in
// a command whose op and id decoded (the one error the server answers
// instead of closing). The schema nests three levels at most and unknown
// fields are skipped unread, so no input can nest deeper than
// MaxNestingDepth.
//
// Data is copied, so msg may be reused once it returns. With binary set it
// holds raw bytes, never nil (an absent data field is empty bytes);
// without, it is JSON text or nil.
func DecodeCommandProtobuf(msg []byte, cmd *Command) error {
	*cmd = Command{}
	d := pbDecoder{}
	d.command(msg, cmd)
	if d.malformed != nil {
		return d.malformed
	}
	if cmd.Binary && cmd.Op != OpPublish {
		d.fail("binary", "set only on publish")
		cmd.Binary, cmd.Data = false, nil
	}
	if cmd.Binary && cmd.Data == nil {
		cmd.Data = json.RawMessage{}
	}
	if !cmd.Binary && cmd.Data != nil && (!utf8.Valid(cmd.Data) || !json.Valid(cmd.Data)) {
		d.fail("data", "the UTF-8 text of a JSON value unless binary is set")
		cmd.Data = nil
	}
	if d.fieldErr != nil {
		if cmd.Op != "" && (cmd.ID != 0 || !NeedsID(cmd.Op)) {
			return fmt.Errorf("%w: %v", ErrInvalidField, d.fieldErr)
		}
		return fmt.Errorf("%w: %v", ErrInvalidProtobuf, d.fieldErr)
	}
	if cmd.Op == "" {
		return ErrMissingOp
	}
	if cmd.ID == 0 && NeedsID(cmd.Op) {
		return ErrMissingID
	}
	return nil
}

// pbDecoder reads fields. Like encoding/json it goes on past a field of
// the wrong type, so that the id and op still decode, and reports the
// first such field; malformed input stops it.
type pbDecoder struct {
	fieldErr  error
	malformed error
}

func (d *pbDecoder) fail(field, want string) {
	if d.fieldErr == nil {
		d.fieldErr = fmt.Errorf("%s must be %s", field, want)
	}
}

// fields calls fn for each field of msg with its number, wire type and
// value: for a varint its value in v, for a length-delimited field its
// bytes in b. It skips fixed-size fields for fn (every field of the schema
// is a varint or length-delimited, so fn sees them as of the wrong type).
// It returns false when msg is malformed, after recording why.
func (d *pbDecoder) fields(msg []byte, fn func(num protowire.Number, typ protowire.Type, v uint64, b []byte)) bool {
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			d.malformed = fmt.Errorf("%w: a malformed field tag", ErrInvalidProtobuf)
			return false
		}
		msg = msg[n:]
		var v uint64
		var b []byte
		switch typ {
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(msg)
		case protowire.BytesType:
			b, n = protowire.ConsumeBytes(msg)
		case protowire.Fixed32Type:
			_, n = protowire.ConsumeFixed32(msg)
		case protowire.Fixed64Type:
			_, n = protowire.ConsumeFixed64(msg)
		default:
			d.malformed = fmt.Errorf("%w: field %d is a group, which the encoding does not use", ErrInvalidProtobuf, num)
			return false
		}
		if n < 0 {
			d.malformed = fmt.Errorf("%w: field %d is cut short", ErrInvalidProtobuf, num)
			return false
		}
		msg = msg[n:]
		fn(num, typ, v, b)
	}
	return true
}

// command reads a Command's fields into cmd.
func (d *pbDecoder) command(msg []byte, cmd *Command) {
	d.fields(msg, func(num protowire.Number, typ protowire.Type, v uint64, b []byte) {
		switch num {
		case cmdID:
			cmd.ID = d.uint(typ, v, "id")
		case cmdOp:
			cmd.Op = d.str(typ, b, "op")
		case cmdChannel:
			cmd.Channel = d.str(typ, b, "channel")
		case cmdData:
			if typ != protowire.BytesType {
				d.fail("data", "bytes")
				return
			}
			cmd.Data = append(json.RawMessage{}, b...)
		case cmdBinary:
			cmd.Binary = d.uint(typ, v, "binary") != 0
		case cmdKey:
			cmd.Key = d.str(typ, b, "key")
		case cmdToken:
			cmd.Token = d.str(typ, b, "token")
		case cmdName:
			cmd.Name = d.str(typ, b, "name")
		case cmdVersion:
			cmd.Version = d.str(typ, b, "version")
		case cmdSubs:
			d.subsEntry(typ, b, cmd)
		case cmdRecover:
			cmd.Recover = d.uint(typ, v, "recover") != 0
		case cmdOffset:
			cmd.Offset = d.uint(typ, v, "offset")
		case cmdEpoch:
			cmd.Epoch = d.str(typ, b, "epoch")
		case cmdPresence:
			cmd.Presence = d.uint(typ, v, "presence") != 0
		case cmdMethod:
			cmd.Method = d.str(typ, b, "method")
		case cmdSince:
			cmd.Since = d.position(typ, b, "since")
		case cmdLimit:
			cmd.Limit = int(int64(d.uint(typ, v, "limit")))
		case cmdReverse:
			cmd.Reverse = d.uint(typ, v, "reverse") != 0
		}
	})
}

// uint reads a varint field.
func (d *pbDecoder) uint(typ protowire.Type, v uint64, field string) uint64 {
	if typ != protowire.VarintType {
		d.fail(field, "a varint")
		return 0
	}
	return v
}

// str reads a string field, which must be valid UTF-8 as in JSON.
func (d *pbDecoder) str(typ protowire.Type, b []byte, field string) string {
	if typ != protowire.BytesType {
		d.fail(field, "a string")
		return ""
	}
	if !utf8.Valid(b) {
		d.fail(field, "valid UTF-8")
		return ""
	}
	return string(b)
}

// position reads a StreamPosition message.
func (d *pbDecoder) position(typ protowire.Type, b []byte, field string) *StreamPosition {
	if typ != protowire.BytesType {
		d.fail(field, "a StreamPosition message")
		return nil
	}
	p := &StreamPosition{}
	d.fields(b, func(num protowire.Number, typ protowire.Type, v uint64, b []byte) {
		switch num {
		case posOffset:
			p.Offset = d.uint(typ, v, field+".offset")
		case posEpoch:
			p.Epoch = d.str(typ, b, field+".epoch")
		}
	})
	return p
}

// subsEntry reads one entry of connect's map of positions.
func (d *pbDecoder) subsEntry(typ protowire.Type, b []byte, cmd *Command) {
	if typ != protowire.BytesType {
		d.fail("subs", "a map entry")
		return
	}
	var ch string
	var pos *StreamPosition
	d.fields(b, func(num protowire.Number, typ protowire.Type, v uint64, b []byte) {
		switch num {
		case mapKey:
			ch = d.str(typ, b, "subs key")
		case mapValue:
			pos = d.position(typ, b, "subs entry")
		}
	})
	if cmd.Subs == nil {
		cmd.Subs = make(map[string]*StreamPosition)
	}
	if pos == nil {
		pos = &StreamPosition{} // an absent value is an empty message
	}
	cmd.Subs[ch] = pos
}
