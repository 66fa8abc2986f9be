package protocol

// The MessagePack candidate of the encoding choice
// (encoding_choice_bench_test.go), kept so that the figures can be
// measured again: a `pub` push encoder and a command decoder as this
// package would have shipped them, on tinylib/msgp's appenders and
// readers, with the nesting check a MessagePack decoder needs (a
// MessagePack value can nest without bound; Protobuf's schema cannot).

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/tinylib/msgp/msgp"
)

// appendPubMsgpack appends the `pub` push for a publication on channel to
// dst in MessagePack, with the same fields as AppendPub: it is the binary
// encoding's fan-out hot path, encoded once per publication.
func appendPubMsgpack(dst []byte, channel string, pub *Publication, epoch string) []byte {
	n := uint32(3) // op, channel, data
	withEpoch := pub.Offset == 1 && epoch != ""
	n += boolCount(pub.Offset > 0, withEpoch, pub.Info != nil, pub.Key != "", pub.Time > 0)
	dst = msgp.AppendMapHeader(dst, n)
	dst = msgp.AppendString(dst, "op")
	dst = msgp.AppendString(dst, OpPub)
	dst = msgp.AppendString(dst, "channel")
	dst = msgp.AppendString(dst, channel)
	if pub.Offset > 0 {
		dst = msgp.AppendString(dst, "offset")
		dst = msgp.AppendUint64(dst, pub.Offset)
	}
	if withEpoch {
		dst = msgp.AppendString(dst, "epoch")
		dst = msgp.AppendString(dst, epoch)
	}
	return appendPubTailMsgpack(dst, pub)
}

// appendPubTailMsgpack appends the fields a `pub` push shares with the
// publication object: data, info, key and time.
func appendPubTailMsgpack(dst []byte, pub *Publication) []byte {
	dst = msgp.AppendString(dst, "data")
	dst = appendPubDataMsgpack(dst, pub)
	if pub.Info != nil {
		dst = msgp.AppendString(dst, "info")
		dst = appendClientInfoMsgpack(dst, pub.Info)
	}
	if pub.Key != "" {
		dst = msgp.AppendString(dst, "key")
		dst = msgp.AppendString(dst, pub.Key)
	}
	if pub.Time > 0 {
		dst = msgp.AppendString(dst, "time")
		dst = msgp.AppendInt64(dst, pub.Time)
	}
	return dst
}

// appendPubDataMsgpack appends a publication's data: bin for a binary
// publication, str holding JSON text (`null` when empty) for a JSON one.
func appendPubDataMsgpack(dst []byte, pub *Publication) []byte {
	if pub.Binary {
		return msgp.AppendBytes(dst, pub.Data)
	}
	return appendJSONTextMsgpack(dst, pub.Data)
}

// appendJSONTextMsgpack appends JSON text as a str, `null` when empty.
func appendJSONTextMsgpack(dst []byte, data []byte) []byte {
	if len(data) == 0 {
		return msgp.AppendString(dst, "null")
	}
	return msgp.AppendStringFromBytes(dst, data)
}

func appendClientInfoMsgpack(dst []byte, info *ClientInfo) []byte {
	dst = msgp.AppendMapHeader(dst, 2+boolCount(len(info.Data) > 0))
	dst = msgp.AppendString(dst, "client")
	dst = msgp.AppendString(dst, info.Client)
	dst = msgp.AppendString(dst, "user")
	dst = msgp.AppendString(dst, info.User)
	if len(info.Data) > 0 {
		dst = msgp.AppendString(dst, "data")
		dst = msgp.AppendStringFromBytes(dst, info.Data)
	}
	return dst
}

// boolCount counts the true values: how many optional fields a map holds.
func boolCount(present ...bool) uint32 {
	var n uint32
	for _, p := range present {
		if p {
			n++
		}
	}
	return n
}

// appendCommandMsgpack appends cmd to dst as a MessagePack message, with
// the fields that are set (zero ones are left out). Data goes as bin when
// cmd.Binary is set, else as str holding its JSON text. Several commands
// appended one after another form one frame.
func appendCommandMsgpack(dst []byte, cmd *Command) []byte {
	hasData := len(cmd.Data) > 0 || (cmd.Binary && cmd.Data != nil)
	n := 1 + boolCount(cmd.ID != 0, cmd.Token != "", cmd.Name != "", cmd.Version != "", len(cmd.Subs) > 0,
		cmd.Channel != "", cmd.Recover, cmd.Offset != 0, cmd.Epoch != "", cmd.Presence, cmd.Key != "",
		cmd.Method != "", cmd.Since != nil, cmd.Limit != 0, cmd.Reverse, hasData)
	dst = msgp.AppendMapHeader(dst, n)
	if cmd.ID != 0 {
		dst = msgp.AppendString(dst, "id")
		dst = msgp.AppendUint64(dst, cmd.ID)
	}
	dst = msgp.AppendString(dst, "op")
	dst = msgp.AppendString(dst, cmd.Op)
	for _, f := range [...]struct{ k, v string }{
		{"token", cmd.Token}, {"name", cmd.Name}, {"version", cmd.Version}, {"channel", cmd.Channel},
		{"epoch", cmd.Epoch}, {"key", cmd.Key}, {"method", cmd.Method},
	} {
		if f.v != "" {
			dst = msgp.AppendString(dst, f.k)
			dst = msgp.AppendString(dst, f.v)
		}
	}
	for _, f := range [...]struct {
		k string
		v bool
	}{{"recover", cmd.Recover}, {"presence", cmd.Presence}, {"reverse", cmd.Reverse}} {
		if f.v {
			dst = msgp.AppendString(dst, f.k)
			dst = msgp.AppendBool(dst, true)
		}
	}
	if cmd.Offset != 0 {
		dst = msgp.AppendString(dst, "offset")
		dst = msgp.AppendUint64(dst, cmd.Offset)
	}
	if cmd.Limit != 0 {
		dst = msgp.AppendString(dst, "limit")
		dst = msgp.AppendInt(dst, cmd.Limit)
	}
	if cmd.Since != nil {
		dst = msgp.AppendString(dst, "since")
		dst = appendStreamPositionMsgpack(dst, cmd.Since)
	}
	if len(cmd.Subs) > 0 {
		dst = msgp.AppendString(dst, "subs")
		dst = msgp.AppendMapHeader(dst, uint32(len(cmd.Subs)))
		for ch, p := range cmd.Subs {
			dst = msgp.AppendString(dst, ch)
			if p == nil {
				dst = msgp.AppendNil(dst)
			} else {
				dst = appendStreamPositionMsgpack(dst, p)
			}
		}
	}
	if hasData {
		dst = msgp.AppendString(dst, "data")
		if cmd.Binary {
			dst = msgp.AppendBytes(dst, cmd.Data)
		} else {
			dst = msgp.AppendStringFromBytes(dst, cmd.Data)
		}
	}
	return dst
}

func appendStreamPositionMsgpack(dst []byte, p *StreamPosition) []byte {
	dst = msgp.AppendMapHeader(dst, 2)
	dst = msgp.AppendString(dst, "offset")
	dst = msgp.AppendUint64(dst, p.Offset)
	dst = msgp.AppendString(dst, "epoch")
	return msgp.AppendString(dst, p.Epoch)
}

var errInvalidMsgpack = errors.New("protocol: malformed MessagePack")

// scanMsgpack returns the length of the one MessagePack value at the start
// of b, checking that it is complete, that maps and arrays nest at most
// limit levels (the value itself counting as one when it is a map or an
// array), and that every map key is a string. It reads each byte once and
// allocates nothing. It returns ErrTooDeep past the limit and a wrapped
// errInvalidMsgpack for anything else it refuses.
func scanMsgpack(b []byte, limit int) (int, error) {
	n, err := scanValue(b, 0, 1, limit, false)
	if err != nil {
		return 0, err
	}
	return n, nil
}

// scanValue scans the value at b[i:] at nesting depth depth and returns
// the offset just past it. key says the value is a map key, which must be
// a string.
func scanValue(b []byte, i, depth, limit int, key bool) (int, error) {
	if i >= len(b) {
		return 0, errTruncated
	}
	c := b[i]
	if key && !isStrPrefix(c) {
		return 0, fmt.Errorf("%w: a map key is not a string", errInvalidMsgpack)
	}
	switch {
	case c <= 0x7f || c >= 0xe0: // positive and negative fixint
		return i + 1, nil
	case c <= 0x8f: // fixmap
		return scanItems(b, i+1, 2*int(c&0x0f), depth, limit, true)
	case c <= 0x9f: // fixarray
		return scanItems(b, i+1, int(c&0x0f), depth, limit, false)
	case c <= 0xbf: // fixstr
		return skipBytes(b, i+1, int(c&0x1f))
	}
	switch c {
	case 0xc0, 0xc2, 0xc3: // nil, false, true
		return i + 1, nil
	case 0xc4, 0xd9: // bin 8, str 8
		return skipSized(b, i+1, 1, 0)
	case 0xc5, 0xda: // bin 16, str 16
		return skipSized(b, i+1, 2, 0)
	case 0xc6, 0xdb: // bin 32, str 32
		return skipSized(b, i+1, 4, 0)
	case 0xc7: // ext 8: length, type, data
		return skipSized(b, i+1, 1, 1)
	case 0xc8: // ext 16
		return skipSized(b, i+1, 2, 1)
	case 0xc9: // ext 32
		return skipSized(b, i+1, 4, 1)
	case 0xca: // float 32
		return skipBytes(b, i+1, 4)
	case 0xcb: // float 64
		return skipBytes(b, i+1, 8)
	case 0xcc, 0xd0: // uint 8, int 8
		return skipBytes(b, i+1, 1)
	case 0xcd, 0xd1: // uint 16, int 16
		return skipBytes(b, i+1, 2)
	case 0xce, 0xd2: // uint 32, int 32
		return skipBytes(b, i+1, 4)
	case 0xcf, 0xd3: // uint 64, int 64
		return skipBytes(b, i+1, 8)
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1, 2, 4, 8, 16: type, data
		return skipBytes(b, i+1, 1+1<<(c-0xd4))
	case 0xdc: // array 16
		n, j, err := readLength(b, i+1, 2)
		if err != nil {
			return 0, err
		}
		return scanItems(b, j, n, depth, limit, false)
	case 0xdd: // array 32
		n, j, err := readLength(b, i+1, 4)
		if err != nil {
			return 0, err
		}
		return scanItems(b, j, n, depth, limit, false)
	case 0xde: // map 16
		n, j, err := readLength(b, i+1, 2)
		if err != nil {
			return 0, err
		}
		return scanItems(b, j, 2*n, depth, limit, true)
	case 0xdf: // map 32
		n, j, err := readLength(b, i+1, 4)
		if err != nil {
			return 0, err
		}
		return scanItems(b, j, 2*n, depth, limit, true)
	}
	return 0, fmt.Errorf("%w: byte 0x%02x starts no value", errInvalidMsgpack, c)
}

// scanItems scans the n values of a map (keys and values alternating) or
// an array, one level deeper than depth.
func scanItems(b []byte, i, n, depth, limit int, isMap bool) (int, error) {
	if depth > limit {
		return 0, ErrTooDeep
	}
	// Each value takes at least one byte: a count beyond what is left
	// is cut short, whatever the values would be.
	if n > len(b)-i {
		return 0, errTruncated
	}
	var err error
	for k := 0; k < n; k++ {
		i, err = scanValue(b, i, depth+1, limit, isMap && k%2 == 0)
		if err != nil {
			return 0, err
		}
	}
	return i, nil
}

// isStrPrefix reports whether c starts a str.
func isStrPrefix(c byte) bool {
	return (c >= 0xa0 && c <= 0xbf) || c == 0xd9 || c == 0xda || c == 0xdb
}

// readLength reads a big-endian length of size bytes at b[i:].
func readLength(b []byte, i, size int) (n, next int, err error) {
	if len(b)-i < size {
		return 0, 0, errTruncated
	}
	var v uint64
	switch size {
	case 1:
		v = uint64(b[i])
	case 2:
		v = uint64(binary.BigEndian.Uint16(b[i:]))
	default:
		v = uint64(binary.BigEndian.Uint32(b[i:]))
	}
	if v > uint64(len(b)) {
		return 0, 0, errTruncated
	}
	return int(v), i + size, nil
}

// skipSized skips a length of size bytes, extra bytes (an ext's type) and
// as many bytes as the length says.
func skipSized(b []byte, i, size, extra int) (int, error) {
	n, j, err := readLength(b, i, size)
	if err != nil {
		return 0, err
	}
	return skipBytes(b, j, extra+n)
}

func skipBytes(b []byte, i, n int) (int, error) {
	if len(b)-i < n {
		return 0, errTruncated
	}
	return i + n, nil
}

var errTruncated = fmt.Errorf("%w: a value is cut short", errInvalidMsgpack)

// decodeCommandMsgpack decodes one MessagePack message into cmd, which it
// resets first. It fails as DecodeCommand does, with the same errors:
// ErrEmptyMessage, ErrNotAnObject (the message is not a map), ErrTooDeep
// (maps and arrays nested deeper than MaxNestingDepth, checked before
// anything is decoded), errInvalidMsgpack (malformed or cut short, or
// followed by other bytes), ErrMissingOp, ErrMissingID, and ErrInvalidField
// for a field of the wrong type in a command whose op and id decoded (the
// one error the server answers instead of closing).
//
// Field names are the JSON ones, matched exactly; unknown fields are
// skipped; nil means absent. `data` is either bin (binary data: cmd.Data
// holds the bytes and cmd.Binary is set) or str holding JSON text (valid
// UTF-8 and valid JSON, else ErrInvalidField). cmd.Data and the strings
// are copies: msg may be reused once it returns.
func decodeCommandMsgpack(msg []byte, cmd *Command) error {
	*cmd = Command{}
	if len(msg) == 0 {
		return ErrEmptyMessage
	}
	if !isMapPrefix(msg[0]) {
		return ErrNotAnObject
	}
	n, err := scanMsgpack(msg, MaxNestingDepth)
	if err != nil {
		return err
	}
	if n != len(msg) {
		return fmt.Errorf("%w: a message is followed by other bytes in its value", errInvalidMsgpack)
	}
	var d msgpackCommandDecoder
	d.decode(msg, cmd)
	if d.fieldErr != nil {
		if cmd.Op != "" && (cmd.ID != 0 || !NeedsID(cmd.Op)) {
			return fmt.Errorf("%w: %v", ErrInvalidField, d.fieldErr)
		}
		return fmt.Errorf("%w: %v", errInvalidMsgpack, d.fieldErr)
	}
	if cmd.Op == "" {
		return ErrMissingOp
	}
	if cmd.ID == 0 && NeedsID(cmd.Op) {
		return ErrMissingID
	}
	return nil
}

// isMapPrefix reports whether c starts a map.
func isMapPrefix(c byte) bool { return (c >= 0x80 && c <= 0x8f) || c == 0xde || c == 0xdf }

// msgpackCommandDecoder reads the fields of a scanned (so well-formed) command.
// Like encoding/json it goes on past a field of the wrong type, so that the
// id and op still decode, and reports the first such field.
type msgpackCommandDecoder struct {
	fieldErr error
}

// fail records the first field of the wrong type.
func (d *msgpackCommandDecoder) fail(field, want string) {
	if d.fieldErr == nil {
		d.fieldErr = fmt.Errorf("%s must be %s", field, want)
	}
}

// decode fills cmd from the scanned map msg.
func (d *msgpackCommandDecoder) decode(msg []byte, cmd *Command) {
	sz, b, _ := msgp.ReadMapHeaderBytes(msg)
	for ; sz > 0; sz-- {
		var key []byte
		key, b, _ = msgp.ReadStringZC(b)
		if msgp.IsNil(b) {
			b = b[1:] // nil is absent
			continue
		}
		switch string(key) {
		case "id":
			cmd.ID, b = d.uint(b, "id")
		case "op":
			cmd.Op, b = d.str(b, "op")
		case "token":
			cmd.Token, b = d.str(b, "token")
		case "name":
			cmd.Name, b = d.str(b, "name")
		case "version":
			cmd.Version, b = d.str(b, "version")
		case "channel":
			cmd.Channel, b = d.str(b, "channel")
		case "epoch":
			cmd.Epoch, b = d.str(b, "epoch")
		case "key":
			cmd.Key, b = d.str(b, "key")
		case "method":
			cmd.Method, b = d.str(b, "method")
		case "recover":
			cmd.Recover, b = d.bool(b, "recover")
		case "presence":
			cmd.Presence, b = d.bool(b, "presence")
		case "reverse":
			cmd.Reverse, b = d.bool(b, "reverse")
		case "offset":
			cmd.Offset, b = d.uint(b, "offset")
		case "limit":
			cmd.Limit, b = d.int(b, "limit")
		case "since":
			cmd.Since, b = d.position(b, "since")
		case "subs":
			cmd.Subs, b = d.subs(b)
		case "data":
			cmd.Data, cmd.Binary, b = d.data(b)
		default:
			b, _ = msgp.Skip(b)
		}
	}
}

// uint reads a non-negative integer (any MessagePack integer format).
func (d *msgpackCommandDecoder) uint(b []byte, field string) (uint64, []byte) {
	v, rest, err := msgp.ReadUint64Bytes(b)
	if err != nil {
		d.fail(field, "a non-negative integer")
		rest, _ = msgp.Skip(b)
		return 0, rest
	}
	return v, rest
}

// int reads an integer that fits an int.
func (d *msgpackCommandDecoder) int(b []byte, field string) (int, []byte) {
	v, rest, err := msgp.ReadInt64Bytes(b)
	if err != nil || v > math.MaxInt || v < math.MinInt {
		d.fail(field, "an integer")
		rest, _ = msgp.Skip(b)
		return 0, rest
	}
	return int(v), rest
}

func (d *msgpackCommandDecoder) str(b []byte, field string) (string, []byte) {
	v, rest, err := msgp.ReadStringZC(b)
	if err != nil {
		d.fail(field, "a string")
		rest, _ = msgp.Skip(b)
		return "", rest
	}
	return string(v), rest
}

func (d *msgpackCommandDecoder) bool(b []byte, field string) (bool, []byte) {
	v, rest, err := msgp.ReadBoolBytes(b)
	if err != nil {
		d.fail(field, "a boolean")
		rest, _ = msgp.Skip(b)
		return false, rest
	}
	return v, rest
}

// data reads a command's data: bin is binary data, str is JSON text.
func (d *msgpackCommandDecoder) data(b []byte) (json.RawMessage, bool, []byte) {
	switch msgp.NextType(b) {
	case msgp.BinType:
		v, rest, _ := msgp.ReadBytesZC(b)
		return append(json.RawMessage{}, v...), true, rest
	case msgp.StrType:
		v, rest, _ := msgp.ReadStringZC(b)
		if !utf8.Valid(v) || !json.Valid(v) {
			d.fail("data", "bin, or str holding valid JSON")
			return nil, false, rest
		}
		return append(json.RawMessage{}, v...), false, rest
	}
	d.fail("data", "bin, or str holding valid JSON")
	rest, _ := msgp.Skip(b)
	return nil, false, rest
}

// position reads a {offset, epoch} map.
func (d *msgpackCommandDecoder) position(b []byte, field string) (*StreamPosition, []byte) {
	sz, rest, err := msgp.ReadMapHeaderBytes(b)
	if err != nil {
		d.fail(field, "a map")
		rest, _ = msgp.Skip(b)
		return nil, rest
	}
	p := &StreamPosition{}
	for ; sz > 0; sz-- {
		var key []byte
		key, rest, _ = msgp.ReadStringZC(rest)
		if msgp.IsNil(rest) {
			rest = rest[1:]
			continue
		}
		switch string(key) {
		case "offset":
			p.Offset, rest = d.uint(rest, field+".offset")
		case "epoch":
			p.Epoch, rest = d.str(rest, field+".epoch")
		default:
			rest, _ = msgp.Skip(rest)
		}
	}
	return p, rest
}

// subs reads connect's map of channel positions.
func (d *msgpackCommandDecoder) subs(b []byte) (map[string]*StreamPosition, []byte) {
	sz, rest, err := msgp.ReadMapHeaderBytes(b)
	if err != nil {
		d.fail("subs", "a map")
		rest, _ = msgp.Skip(b)
		return nil, rest
	}
	out := make(map[string]*StreamPosition, min(sz, 64))
	for ; sz > 0; sz-- {
		var ch []byte
		ch, rest, _ = msgp.ReadStringZC(rest)
		if msgp.IsNil(rest) {
			out[string(ch)] = nil
			rest = rest[1:]
			continue
		}
		out[string(ch)], rest = d.position(rest, "subs entry")
	}
	return out, rest
}
