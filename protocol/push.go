package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
)

// PingPush is the encoded `ping` push; it never changes.
var PingPush = []byte(`{"op":"ping"}`)

// AppendPub appends the `pub` push for a publication on channel to dst and
// returns the extended slice. It is the hot path of fan-out: the node encodes
// each publication once with it and hands the same bytes to every subscriber.
// pub.Data must be valid, compact JSON (see Compact), unless pub.Binary is
// set: binary data goes out as base64 with "binary":true.
//
// The first publication of a stream (offset 1) also carries the stream's
// epoch, so that a subscriber whose stream was lost and started over (its
// history expired) learns of the new epoch instead of taking offset 1 for a
// duplicate.
func AppendPub(dst []byte, channel string, pub *Publication, epoch string) []byte {
	dst = append(dst, `{"op":"pub","channel":`...)
	dst = AppendString(dst, channel)
	if pub.Offset > 0 {
		dst = append(dst, `,"offset":`...)
		dst = strconv.AppendUint(dst, pub.Offset, 10)
	}
	if pub.Offset == 1 && epoch != "" {
		dst = append(dst, `,"epoch":`...)
		dst = AppendString(dst, epoch)
	}
	dst = append(dst, ',')
	return appendPubRest(dst, pub)
}

// appendPubRest appends what the pub push and the publication object
// share after the offset: data (appendPubDataJSON), info, key and time,
// and the closing brace.
func appendPubRest(dst []byte, pub *Publication) []byte {
	dst = appendPubDataJSON(dst, pub)
	if pub.Info != nil {
		dst = appendInfo(dst, pub.Info)
	}
	if pub.Key != "" {
		dst = append(dst, `,"key":`...)
		dst = AppendString(dst, pub.Key)
	}
	if pub.Time > 0 {
		dst = append(dst, `,"time":`...)
		dst = strconv.AppendInt(dst, pub.Time, 10)
	}
	return append(dst, '}')
}

func appendInfo(dst []byte, info *ClientInfo) []byte {
	dst = append(dst, `,"info":{"client":`...)
	dst = AppendString(dst, info.Client)
	dst = append(dst, `,"user":`...)
	dst = AppendString(dst, info.User)
	if len(info.Data) > 0 {
		dst = append(dst, `,"data":`...)
		dst = append(dst, info.Data...)
	}
	return append(dst, '}')
}

// Push is a server-to-client message other than `pub`, encoded with
// encoding/json (they are rare enough that speed does not matter).
type Push struct {
	Op        string          `json:"op"`
	Channel   string          `json:"channel,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
	Info      *ClientInfo     `json:"info,omitempty"`
	Code      int             `json:"code,omitempty"`
	Reason    string          `json:"reason,omitempty"`
	Reconnect bool            `json:"reconnect,omitempty"`
	*SubscribeResult
}

// EncodePush returns the JSON encoding of p.
func EncodePush(p *Push) []byte {
	b, err := json.Marshal(p)
	if err != nil {
		// Every field is either a plain value or already-valid JSON.
		panic("protocol: encode push: " + err.Error())
	}
	return b
}

// DisconnectPush returns the encoded `disconnect` push for a close code. It
// always carries `reconnect`, true or false.
func DisconnectPush(code int, reason string) []byte {
	b := append([]byte(`{"op":"disconnect","code":`), strconv.Itoa(code)...)
	b = append(b, `,"reason":`...)
	b = AppendString(b, reason)
	b = append(b, `,"reconnect":`...)
	b = strconv.AppendBool(b, ShouldReconnect(code))
	return append(b, '}')
}

// Compact returns data as valid JSON without newlines, so that it can be
// newline-joined with other messages in one frame. It returns data itself
// when it is already so (the common case: no copy), and ok=false when data is
// not valid JSON.
func Compact(data []byte) (out []byte, ok bool) {
	if len(data) == 0 || !json.Valid(data) {
		return nil, false
	}
	if bytes.IndexByte(data, '\n') < 0 && bytes.IndexByte(data, '\r') < 0 {
		return data, true
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		return nil, false
	}
	return buf.Bytes(), true
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string to dst, escaping as encoding/json
// does: quotes, backslashes, control characters, <, >, & and the JavaScript
// line separators; invalid UTF-8 becomes U+FFFD.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// EncodeData turns a value into compact JSON for a message's data:
// json.RawMessage and []byte are taken as they are (and validated), nil and
// empty ones give nil (no data), anything else goes through encoding/json.
func EncodeData(v any) (json.RawMessage, error) {
	var raw []byte
	switch d := v.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		raw = d
	case []byte:
		raw = d
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		raw = b
	}
	if len(raw) == 0 {
		return nil, nil
	}
	out, ok := Compact(raw)
	if !ok {
		return nil, errors.New("protocol: data is not valid JSON")
	}
	return out, nil
}
