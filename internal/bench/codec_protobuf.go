package bench

import (
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/heraldrt/herald/internal/wsframe"
	"github.com/heraldrt/herald/protocol"
)

// heraldProtobufCodec speaks Herald protocol v1 in its binary encoding
// (docs/protocol.md, section 2.7): Protobuf messages behind varint length
// prefixes, in binary frames, negotiated with the herald.protobuf
// subprotocol. Publications travel as binary data.
type heraldProtobufCodec struct{}

func (heraldProtobufCodec) connectSubscribe(channel string) []byte {
	b := protocol.AppendCommandProtobuf(nil, &protocol.Command{ID: 1, Op: protocol.OpConnect, Name: "herald-bench"})
	return protocol.AppendCommandProtobuf(b, &protocol.Command{ID: 2, Op: protocol.OpSubscribe, Channel: channel})
}

func (heraldProtobufCodec) appendPublish(b []byte, id uint64, channel string, data []byte) []byte {
	return protocol.AppendCommandProtobuf(b, &protocol.Command{ID: id, Op: protocol.OpPublish, Channel: channel, Data: data, Binary: true})
}

var pbPong = protocol.AppendCommandProtobuf(nil, &protocol.Command{Op: protocol.OpPong})

func (heraldProtobufCodec) pong() []byte { return pbPong }

func (heraldProtobufCodec) opcode() byte { return wsframe.OpBinary }

func (heraldProtobufCodec) subprotocol() string { return protocol.SubprotocolProtobuf }

func (heraldProtobufCodec) split(frame []byte, fn func([]byte) error) error {
	return protocol.SplitProtobuf(frame, fn)
}

// parse reads the fields of a ServerMessage that the load generator needs,
// without copying: a pub's data, a reply's id and error, a disconnect's
// code. (Field numbers from herald.proto: id 1, op 2, data 6, error 12,
// code 13.)
func (heraldProtobufCodec) parse(msg []byte) event {
	var id, code uint64
	var op, data, errMsg []byte
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return event{}
		}
		msg = msg[n:]
		switch typ {
		case protowire.VarintType:
			var v uint64
			v, n = protowire.ConsumeVarint(msg)
			switch num {
			case 1:
				id = v
			case 13:
				code = v
			}
		case protowire.BytesType:
			var v []byte
			v, n = protowire.ConsumeBytes(msg)
			switch num {
			case 2:
				op = v
			case 6:
				data = v
			case 12:
				errMsg = v
			}
		default:
			n = protowire.ConsumeFieldValue(num, typ, msg)
		}
		if n < 0 {
			return event{}
		}
		msg = msg[n:]
	}
	switch {
	case id != 0:
		ev := event{kind: evReply, id: id}
		if errMsg != nil {
			var f protocol.ReplyFrame
			_ = protocol.DecodeReplyFrameProtobuf(protowire.AppendBytes(protowire.AppendTag(nil, 12, protowire.BytesType), errMsg), &f)
			ev.err = (&wireError{Code: f.Error.Code, Message: f.Error.Message}).String()
		}
		return ev
	case string(op) == protocol.OpPub:
		return event{kind: evPub, data: data}
	case string(op) == protocol.OpPing:
		return event{kind: evPing}
	case string(op) == protocol.OpDisconnect:
		return event{kind: evDisconnect, err: "disconnect " + itoa(int(code))}
	}
	return event{}
}
