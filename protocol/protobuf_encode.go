package protocol

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// This file encodes what the server sends in the Protobuf encoding
// (herald.proto; docs/protocol.md, section 2.7). Each encoded message
// starts with its length as a varint, so that messages concatenated in one
// frame can be told apart. Fields with zero values are left out, as in
// JSON. A publication's data is its bytes, with binary set when they are
// raw bytes; a JSON publication's data is its JSON text (`null` when
// empty).

// maxVarintLen is the longest a varint can be.
const maxVarintLen = 10

// PingPushProtobuf is the encoded `ping` push in Protobuf; it never
// changes.
var PingPushProtobuf = delimited(appendStringField(nil, smOp, OpPing))

// AppendPubProtobuf appends the `pub` push for a publication on channel to
// dst in Protobuf, with the same fields as AppendPub: it is the binary
// encoding's fan-out hot path, encoded once per publication. It sizes the
// message first and writes it without a scratch buffer.
func AppendPubProtobuf(dst []byte, channel string, pub *Publication, epoch string) []byte {
	withEpoch := pub.Offset == 1 && epoch != ""
	size := 1 + protowire.SizeBytes(len(OpPub)) + 1 + protowire.SizeBytes(len(channel))
	if pub.Offset > 0 {
		size += 1 + protowire.SizeVarint(pub.Offset)
	}
	if withEpoch {
		size += 1 + protowire.SizeBytes(len(epoch))
	}
	size += sizePubTail(pub)
	dst = protowire.AppendVarint(dst, uint64(size))
	dst = appendStringField(dst, smOp, OpPub)
	dst = appendStringField(dst, smChannel, channel)
	dst = appendUintField(dst, smOffset, pub.Offset)
	if withEpoch {
		dst = appendStringField(dst, smEpoch, epoch)
	}
	return appendPubTail(dst, pub, smData, smBinary, smInfo, smKey, smTime)
}

// pubDataBytes returns what a publication's data field holds: its bytes, or
// `null` for a JSON publication without data.
func pubDataBytes(pub *Publication) []byte {
	if len(pub.Data) == 0 && !pub.Binary {
		return nullJSON
	}
	return pub.Data
}

var nullJSON = []byte("null")

// sizePubTail is the size of the fields appendPubTail writes, whose
// numbers are all below 16 (one-byte tags) in both messages.
func sizePubTail(pub *Publication) int {
	n := 1 + protowire.SizeBytes(len(pubDataBytes(pub)))
	if pub.Binary {
		n += 2
	}
	if pub.Info != nil {
		n += 1 + protowire.SizeBytes(sizeClientInfo(pub.Info))
	}
	if pub.Key != "" {
		n += 1 + protowire.SizeBytes(len(pub.Key))
	}
	if pub.Time > 0 {
		n += 1 + protowire.SizeVarint(uint64(pub.Time))
	}
	return n
}

// appendPubTail appends the fields a `pub` push shares with the
// publication object, under the given field numbers.
func appendPubTail(dst []byte, pub *Publication, data, binary, info, key, time protowire.Number) []byte {
	dst = protowire.AppendTag(dst, data, protowire.BytesType)
	dst = protowire.AppendBytes(dst, pubDataBytes(pub))
	dst = appendBoolField(dst, binary, pub.Binary)
	if pub.Info != nil {
		dst = protowire.AppendTag(dst, info, protowire.BytesType)
		dst = protowire.AppendVarint(dst, uint64(sizeClientInfo(pub.Info)))
		dst = appendClientInfo(dst, pub.Info)
	}
	dst = appendStringField(dst, key, pub.Key)
	return appendIntField(dst, time, pub.Time)
}

func sizeClientInfo(info *ClientInfo) int {
	n := 0
	if info.Client != "" {
		n += 1 + protowire.SizeBytes(len(info.Client))
	}
	if info.User != "" {
		n += 1 + protowire.SizeBytes(len(info.User))
	}
	if len(info.Data) > 0 {
		n += 1 + protowire.SizeBytes(len(info.Data))
	}
	return n
}

// appendClientInfo appends a ClientInfo's fields (without tag or length).
func appendClientInfo(dst []byte, info *ClientInfo) []byte {
	dst = appendStringField(dst, infoClient, info.Client)
	dst = appendStringField(dst, infoUser, info.User)
	return appendBytesField(dst, infoData, info.Data)
}

// appendPublication appends a Publication message as field num.
func appendPublication(dst []byte, num protowire.Number, pub *Publication) []byte {
	size := sizePubTail(pub)
	if pub.Offset > 0 {
		size += 1 + protowire.SizeVarint(pub.Offset)
	}
	dst = protowire.AppendTag(dst, num, protowire.BytesType)
	dst = protowire.AppendVarint(dst, uint64(size))
	dst = appendUintField(dst, pubOffset, pub.Offset)
	return appendPubTail(dst, pub, pubData, pubBinary, pubInfo, pubKey, pubTime)
}

// EncodeReplyProtobuf returns the Protobuf encoding of r, length prefix
// included. Its Result must be one of the result types of this package
// (ConnectResult, SubscribeResult, PublishResult, RPCResult,
// PresenceResult, HistoryResult, RefreshResult, Empty), or nil.
func EncodeReplyProtobuf(r *Reply) ([]byte, error) {
	b := make([]byte, maxVarintLen, 64)
	b = appendUintField(b, smID, r.ID)
	if r.Error != nil {
		var e []byte
		e = appendIntField(e, errCode, int64(r.Error.Code))
		e = appendStringField(e, errMessage, r.Error.Message)
		b = appendMessageField(b, smError, e)
		return finishDelimited(b), nil
	}
	res, err := appendResult(nil, r.Result)
	if err != nil {
		return nil, fmt.Errorf("protocol: encode reply to %d: %w", r.ID, err)
	}
	b = appendMessageField(b, smResult, res)
	return finishDelimited(b), nil
}

// appendResult appends the fields of one command's result.
func appendResult(dst []byte, v any) ([]byte, error) {
	switch res := v.(type) {
	case nil, Empty, *Empty:
		return dst, nil
	case *ConnectResult:
		return appendConnectResult(dst, res), nil
	case *SubscribeResult:
		return appendSubscribeResult(dst, res, resOffset, resEpoch, resRecoverable, resRecovered, resPublications), nil
	case *PublishResult:
		dst = appendUintField(dst, resOffset, res.Offset)
		return appendStringField(dst, resEpoch, res.Epoch), nil
	case *RPCResult:
		return appendBytesField(dst, resData, res.Data), nil
	case *PresenceResult:
		for id, pi := range res.Clients {
			var entry, val []byte
			entry = appendStringField(entry, mapKey, id)
			if pi != nil {
				val = appendStringField(val, presUser, pi.User)
				val = appendBytesField(val, presInfo, pi.Info)
			}
			entry = appendMessageField(entry, mapValue, val)
			dst = appendMessageField(dst, resClients, entry)
		}
		return dst, nil
	case *HistoryResult:
		dst = appendUintField(dst, resOffset, res.Offset)
		dst = appendStringField(dst, resEpoch, res.Epoch)
		for _, p := range res.Publications {
			dst = appendPublication(dst, resPublications, p)
		}
		return dst, nil
	case *RefreshResult:
		return appendIntField(dst, resExpires, res.Expires), nil
	default:
		return nil, fmt.Errorf("no Protobuf encoding for a result of type %T", v)
	}
}

func appendConnectResult(dst []byte, res *ConnectResult) []byte {
	dst = appendStringField(dst, resClient, res.Client)
	dst = appendStringField(dst, resNode, res.Node)
	dst = appendStringField(dst, resUser, res.User)
	dst = appendIntField(dst, resPing, int64(res.Ping))
	dst = appendIntField(dst, resExpires, res.Expires)
	dst = appendBytesField(dst, resData, res.Data)
	for ch, sr := range res.Subs {
		var entry, val []byte
		entry = appendStringField(entry, mapKey, ch)
		if sr != nil {
			val = appendSubscribeResult(val, sr, resOffset, resEpoch, resRecoverable, resRecovered, resPublications)
		}
		entry = appendMessageField(entry, mapValue, val)
		dst = appendMessageField(dst, resSubs, entry)
	}
	return dst
}

// appendSubscribeResult appends a subscribe result's fields under the given
// numbers: a Result's, or a ServerMessage's for the `sub` push.
func appendSubscribeResult(dst []byte, res *SubscribeResult, offset, epoch, recoverable, recovered, pubs protowire.Number) []byte {
	dst = appendUintField(dst, offset, res.Offset)
	dst = appendStringField(dst, epoch, res.Epoch)
	dst = appendBoolField(dst, recoverable, res.Recoverable)
	dst = appendBoolField(dst, recovered, res.Recovered)
	for _, p := range res.Publications {
		dst = appendPublication(dst, pubs, p)
	}
	return dst
}

// EncodePushProtobuf returns the Protobuf encoding of p, length prefix
// included, with the fields EncodePush writes in JSON.
func EncodePushProtobuf(p *Push) []byte {
	b := make([]byte, maxVarintLen, 64)
	b = appendStringField(b, smOp, p.Op)
	b = appendStringField(b, smChannel, p.Channel)
	b = appendBytesField(b, smData, p.Data)
	if p.Info != nil {
		b = protowire.AppendTag(b, smInfo, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(sizeClientInfo(p.Info)))
		b = appendClientInfo(b, p.Info)
	}
	b = appendIntField(b, smCode, int64(p.Code))
	b = appendStringField(b, smReason, p.Reason)
	b = appendBoolField(b, smReconnect, p.Reconnect)
	if p.SubscribeResult != nil {
		b = appendSubscribeResult(b, p.SubscribeResult, smOffset, smEpoch, smRecoverable, smRecovered, smPublications)
	}
	return finishDelimited(b)
}

// DisconnectPushProtobuf returns the `disconnect` push for a close code in
// Protobuf. reconnect is false when absent, so it says true or nothing.
func DisconnectPushProtobuf(code int, reason string) []byte {
	return EncodePushProtobuf(&Push{Op: OpDisconnect, Code: code, Reason: reason, Reconnect: ShouldReconnect(code)})
}

// delimited returns msg behind its length prefix.
func delimited(msg []byte) []byte {
	return protowire.AppendBytes(make([]byte, 0, len(msg)+maxVarintLen), msg)
}

// finishDelimited turns b, a message written after maxVarintLen reserved
// bytes, into the message behind its length prefix, without a copy.
func finishDelimited(b []byte) []byte {
	size := uint64(len(b) - maxVarintLen)
	start := maxVarintLen - protowire.SizeVarint(size)
	protowire.AppendVarint(b[start:start], size)
	return b[start:]
}

// appendMessageField appends an embedded message, present even when empty.
func appendMessageField(dst []byte, num protowire.Number, msg []byte) []byte {
	dst = protowire.AppendTag(dst, num, protowire.BytesType)
	return protowire.AppendBytes(dst, msg)
}

func appendStringField(dst []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return dst
	}
	dst = protowire.AppendTag(dst, num, protowire.BytesType)
	return protowire.AppendString(dst, s)
}

func appendBytesField(dst []byte, num protowire.Number, b []byte) []byte {
	if len(b) == 0 {
		return dst
	}
	dst = protowire.AppendTag(dst, num, protowire.BytesType)
	return protowire.AppendBytes(dst, b)
}

func appendUintField(dst []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return dst
	}
	dst = protowire.AppendTag(dst, num, protowire.VarintType)
	return protowire.AppendVarint(dst, v)
}

// appendIntField appends an int64 or int32 field (a negative one takes ten
// bytes, as Protobuf's int types do).
func appendIntField(dst []byte, num protowire.Number, v int64) []byte {
	return appendUintField(dst, num, uint64(v))
}

func appendBoolField(dst []byte, num protowire.Number, v bool) []byte {
	if !v {
		return dst
	}
	dst = protowire.AppendTag(dst, num, protowire.VarintType)
	return protowire.AppendVarint(dst, 1)
}
