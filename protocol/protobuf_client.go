package protocol

import (
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// This file is a client's side of the Protobuf encoding: encoding commands
// and decoding what the server sends.

// AppendCommandProtobuf appends cmd to dst as a Command message behind its
// length prefix, with the fields that are set. Data goes as it is: raw
// bytes with binary set when cmd.Binary is, else JSON text. Several
// commands appended one after another form one frame.
func AppendCommandProtobuf(dst []byte, cmd *Command) []byte {
	b := make([]byte, maxVarintLen, 64+len(cmd.Data))
	b = appendUintField(b, cmdID, cmd.ID)
	b = appendStringField(b, cmdOp, cmd.Op)
	b = appendStringField(b, cmdChannel, cmd.Channel)
	b = appendBytesField(b, cmdData, cmd.Data)
	b = appendBoolField(b, cmdBinary, cmd.Binary)
	b = appendStringField(b, cmdKey, cmd.Key)
	b = appendStringField(b, cmdToken, cmd.Token)
	b = appendStringField(b, cmdName, cmd.Name)
	b = appendStringField(b, cmdVersion, cmd.Version)
	for ch, p := range cmd.Subs {
		var entry []byte
		entry = appendStringField(entry, mapKey, ch)
		if p != nil {
			entry = appendMessageField(entry, mapValue, appendPosition(nil, p))
		}
		b = appendMessageField(b, cmdSubs, entry)
	}
	b = appendBoolField(b, cmdRecover, cmd.Recover)
	b = appendUintField(b, cmdOffset, cmd.Offset)
	b = appendStringField(b, cmdEpoch, cmd.Epoch)
	b = appendBoolField(b, cmdPresence, cmd.Presence)
	b = appendStringField(b, cmdMethod, cmd.Method)
	if cmd.Since != nil {
		b = appendMessageField(b, cmdSince, appendPosition(nil, cmd.Since))
	}
	b = appendIntField(b, cmdLimit, int64(cmd.Limit))
	b = appendBoolField(b, cmdReverse, cmd.Reverse)
	if dst == nil {
		return finishDelimited(b) // the message as built, without a copy
	}
	return append(dst, finishDelimited(b)...)
}

func appendPosition(dst []byte, p *StreamPosition) []byte {
	dst = appendUintField(dst, posOffset, p.Offset)
	return appendStringField(dst, posEpoch, p.Epoch)
}

// DecodeReplyFrameProtobuf decodes one ServerMessage (the bytes after its
// length prefix; see SplitProtobuf) into f, which it resets first, so that
// f reads as DecodeReplyFrame leaves it for the same message in JSON:
// f.Data holds JSON text, or a binary publication's bytes with f.Binary
// set, and f.Result holds the result as JSON (binary publications in it as
// base64 with "binary":true, which Publication.UnmarshalJSON decodes), so
// that a client decodes results one way whatever the encoding. Results are
// rare; `pub` pushes, the hot path, decode without JSON.
func DecodeReplyFrameProtobuf(msg []byte, f *ReplyFrame) error {
	*f = ReplyFrame{}
	var d pbDecoder
	d.fields(msg, func(num protowire.Number, typ protowire.Type, v uint64, b []byte) {
		switch num {
		case smID:
			f.ID = d.uint(typ, v, "id")
		case smOp:
			f.Op = d.str(typ, b, "op")
		case smChannel:
			f.Channel = d.str(typ, b, "channel")
		case smOffset:
			f.Offset = d.uint(typ, v, "offset")
		case smEpoch:
			f.Epoch = d.str(typ, b, "epoch")
		case smData:
			f.Data = d.bytes(typ, b, "data")
		case smBinary:
			f.Binary = d.uint(typ, v, "binary") != 0
		case smInfo:
			f.Info = d.clientInfo(typ, b)
		case smKey:
			f.Key = d.str(typ, b, "key")
		case smTime:
			f.Time = int64(d.uint(typ, v, "time"))
		case smResult:
			res := d.result(typ, b, false)
			if res != nil {
				js, err := json.Marshal(res)
				if err != nil {
					d.fail("result", "JSON-encodable: "+err.Error())
				}
				f.Result = js
			}
		case smError:
			f.Error = d.error(typ, b)
		case smCode:
			f.Code = int(int32(d.uint(typ, v, "code")))
		case smReason:
			f.Reason = d.str(typ, b, "reason")
		case smReconnect:
			f.Reconnect = d.uint(typ, v, "reconnect") != 0
		case smRecoverable:
			f.Recoverable = d.uint(typ, v, "recoverable") != 0
		case smRecovered:
			f.Recovered = d.uint(typ, v, "recovered") != 0
		case smPublications:
			if p := d.publication(typ, b); p != nil {
				f.Publications = append(f.Publications, p)
			}
		}
	})
	if d.malformed != nil {
		return d.malformed
	}
	if d.fieldErr != nil {
		return fmt.Errorf("%w: %v", ErrInvalidProtobuf, d.fieldErr)
	}
	if !f.Binary && len(f.Data) > 0 && !json.Valid(f.Data) {
		return fmt.Errorf("%w: data is neither binary nor JSON", ErrInvalidProtobuf)
	}
	return nil
}

// bytes reads a length-delimited field as a copy.
func (d *pbDecoder) bytes(typ protowire.Type, b []byte, field string) []byte {
	if typ != protowire.BytesType {
		d.fail(field, "bytes")
		return nil
	}
	return append([]byte{}, b...)
}

// jsonText reads a field that holds JSON text.
func (d *pbDecoder) jsonText(typ protowire.Type, b []byte, field string) json.RawMessage {
	v := d.bytes(typ, b, field)
	if len(v) > 0 && !json.Valid(v) {
		d.fail(field, "JSON text")
		return nil
	}
	return v
}

func (d *pbDecoder) clientInfo(typ protowire.Type, b []byte) *ClientInfo {
	if typ != protowire.BytesType {
		d.fail("info", "a ClientInfo message")
		return nil
	}
	info := &ClientInfo{}
	d.fields(b, func(num protowire.Number, typ protowire.Type, v uint64, b []byte) {
		switch num {
		case infoClient:
			info.Client = d.str(typ, b, "info.client")
		case infoUser:
			info.User = d.str(typ, b, "info.user")
		case infoData:
			info.Data = d.jsonText(typ, b, "info.data")
		}
	})
	return info
}

func (d *pbDecoder) error(typ protowire.Type, b []byte) *Error {
	if typ != protowire.BytesType {
		d.fail("error", "an Error message")
		return nil
	}
	e := &Error{}
	d.fields(b, func(num protowire.Number, typ protowire.Type, v uint64, b []byte) {
		switch num {
		case errCode:
			e.Code = int(int32(d.uint(typ, v, "error.code")))
		case errMessage:
			e.Message = d.str(typ, b, "error.message")
		}
	})
	return e
}

func (d *pbDecoder) publication(typ protowire.Type, b []byte) *Publication {
	if typ != protowire.BytesType {
		d.fail("publications", "Publication messages")
		return nil
	}
	p := &Publication{}
	d.fields(b, func(num protowire.Number, typ protowire.Type, v uint64, b []byte) {
		switch num {
		case pubOffset:
			p.Offset = d.uint(typ, v, "publication offset")
		case pubData:
			p.Data = d.bytes(typ, b, "publication data")
		case pubBinary:
			p.Binary = d.uint(typ, v, "publication binary") != 0
		case pubInfo:
			p.Info = d.clientInfo(typ, b)
		case pubKey:
			p.Key = d.str(typ, b, "publication key")
		case pubTime:
			p.Time = int64(d.uint(typ, v, "publication time"))
		}
	})
	if p.Binary && p.Data == nil {
		p.Data = []byte{}
	}
	if !p.Binary && len(p.Data) > 0 && !json.Valid(p.Data) {
		d.fail("publication data", "JSON text unless binary is set")
	}
	return p
}

// resultFields is every field a Result may hold, named and left out when
// zero as in the JSON results, so that it encodes as the JSON result of
// whichever command it answers.
type resultFields struct {
	Client       string                   `json:"client,omitempty"`
	Node         string                   `json:"node,omitempty"`
	User         string                   `json:"user,omitempty"`
	Ping         int64                    `json:"ping,omitempty"`
	Expires      int64                    `json:"expires,omitempty"`
	Data         json.RawMessage          `json:"data,omitempty"`
	Subs         map[string]*resultFields `json:"subs,omitempty"`
	Offset       uint64                   `json:"offset,omitempty"`
	Epoch        string                   `json:"epoch,omitempty"`
	Recoverable  bool                     `json:"recoverable,omitempty"`
	Recovered    bool                     `json:"recovered,omitempty"`
	Publications []*Publication           `json:"publications,omitempty"`
	Clients      map[string]*PresenceInfo `json:"clients,omitempty"`
}

// result reads a Result message, nested Results (connect's subs) included:
// a nested one, a subscribe result, holds no subs of its own.
func (d *pbDecoder) result(typ protowire.Type, b []byte, nested bool) *resultFields {
	if typ != protowire.BytesType {
		d.fail("result", "a Result message")
		return nil
	}
	r := &resultFields{}
	d.fields(b, func(num protowire.Number, typ protowire.Type, v uint64, b []byte) {
		switch num {
		case resClient:
			r.Client = d.str(typ, b, "result.client")
		case resNode:
			r.Node = d.str(typ, b, "result.node")
		case resUser:
			r.User = d.str(typ, b, "result.user")
		case resPing:
			r.Ping = int64(d.uint(typ, v, "result.ping"))
		case resExpires:
			r.Expires = int64(d.uint(typ, v, "result.expires"))
		case resData:
			r.Data = d.jsonText(typ, b, "result.data")
		case resSubs:
			if nested {
				d.fail("result.subs", "absent in a subscribe result")
				return
			}
			key, val := d.mapEntry(typ, b, "result.subs")
			if r.Subs == nil {
				r.Subs = make(map[string]*resultFields)
			}
			r.Subs[key] = d.result(protowire.BytesType, val, true)
		case resOffset:
			r.Offset = d.uint(typ, v, "result.offset")
		case resEpoch:
			r.Epoch = d.str(typ, b, "result.epoch")
		case resRecoverable:
			r.Recoverable = d.uint(typ, v, "result.recoverable") != 0
		case resRecovered:
			r.Recovered = d.uint(typ, v, "result.recovered") != 0
		case resPublications:
			if p := d.publication(typ, b); p != nil {
				r.Publications = append(r.Publications, p)
			}
		case resClients:
			key, val := d.mapEntry(typ, b, "result.clients")
			pi := &PresenceInfo{}
			d.fields(val, func(num protowire.Number, typ protowire.Type, v uint64, b []byte) {
				switch num {
				case presUser:
					pi.User = d.str(typ, b, "presence user")
				case presInfo:
					pi.Info = d.jsonText(typ, b, "presence info")
				}
			})
			if r.Clients == nil {
				r.Clients = make(map[string]*PresenceInfo)
			}
			r.Clients[key] = pi
		}
	})
	return r
}

// mapEntry reads a map field's entry: its string key and its value's
// bytes.
func (d *pbDecoder) mapEntry(typ protowire.Type, b []byte, field string) (key string, val []byte) {
	if typ != protowire.BytesType {
		d.fail(field, "map entries")
		return "", nil
	}
	d.fields(b, func(num protowire.Number, typ protowire.Type, v uint64, b []byte) {
		switch num {
		case mapKey:
			key = d.str(typ, b, field+" key")
		case mapValue:
			if typ != protowire.BytesType {
				d.fail(field, "map entries with message values")
				return
			}
			val = b
		}
	})
	return key, val
}
