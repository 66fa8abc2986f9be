package herald

import (
	"context"
	"errors"
	"fmt"

	"github.com/heraldrt/herald/protocol"
)

// handleFrame decodes the commands in one frame and runs them in order. A frame that breaks the protocol closes
// the connection with CloseBadRequest and a reason that says what was wrong.
//
// A connection speaks one encoding (Session.enc), in its kind of frame:
// a binary frame on a JSON connection, or a text frame on a binary one,
// closes it with CloseUnsupported.
func (s *Session) handleFrame(frame []byte, text bool) {
	if text == s.enc.Binary() {
		if text {
			s.closeWith(protocol.CloseUnsupported, "text frames are not part of the binary encoding this connection negotiated")
		} else {
			s.closeWith(protocol.CloseUnsupported, "binary frames need the herald.protobuf subprotocol")
		}
		return
	}
	s.handling.Add(1)
	defer s.handling.Add(-1)
	s.node.metrics.bytesIn.Add(float64(len(frame)))
	var cmd protocol.Command
	err := s.enc.SplitMessages(frame, func(msg []byte) error {
		s.node.metrics.messagesIn.Inc()
		if err := s.enc.DecodeCommand(msg, &cmd); err != nil {
			if errors.Is(err, protocol.ErrInvalidField) && cmd.ID != 0 {
				s.replyError(cmd.ID, protocol.NewError(protocol.CodeBadRequest, err.Error()))
				return nil
			}
			s.closeWith(protocol.CloseBadRequest, err.Error())
			return err
		}
		return s.handleCommand(&cmd)
	})
	if errors.Is(err, protocol.ErrInvalidProtobuf) {
		// A broken length prefix: the decoder never saw the message.
		// (closeWith is a no-op on a session closed already.)
		s.closeWith(protocol.CloseBadRequest, err.Error())
	}
}

// handleCommand runs one decoded command. It returns errStop when the
// connection is closing and the rest of the frame must be ignored.
func (s *Session) handleCommand(cmd *protocol.Command) error {
	s.mu.Lock()
	closing, connected := s.closing, s.connected
	s.mu.Unlock()
	if closing {
		return errStop
	}
	if !connected {
		if cmd.Op != protocol.OpConnect {
			s.closeWith(protocol.CloseBadRequest, "connect must be the first command")
			return errStop
		}
		return s.handleConnect(cmd)
	}
	if !s.allowCommand(cmd.Op) {
		s.node.metrics.command(cmd.Op, protocol.CodeTooManyRequests)
		if protocol.NeedsID(cmd.Op) {
			s.reply(cmd.ID, fail(errCommandRateExceeded))
		}
		return nil
	}
	r := s.runCommand(s.node.ctx, cmd)
	errCode := 0
	if r.err != nil {
		pe, _ := toProtocolError(r.err)
		errCode = pe.Code
	}
	s.node.metrics.command(cmd.Op, errCode)
	if protocol.NeedsID(cmd.Op) {
		s.reply(cmd.ID, r)
	}
	return nil
}

// runCommand runs one command of a connected session and returns its
// result (replied when the handler queued its reply itself).
func (s *Session) runCommand(ctx context.Context, cmd *protocol.Command) result {
	switch cmd.Op {
	case protocol.OpPong:
		s.handlePong()
	case protocol.OpSend:
		if h := s.node.handlers.Load().message; h != nil {
			h(ctx, s, cmd.Data)
		}
	case protocol.OpConnect:
		return fail(protocol.NewError(protocol.CodeBadRequest, "already connected"))
	case protocol.OpSubscribe:
		return s.handleSubscribe(ctx, cmd)
	case protocol.OpUnsubscribe:
		return s.handleUnsubscribe(ctx, cmd)
	case protocol.OpPublish:
		return s.handlePublish(ctx, cmd)
	case protocol.OpRPC:
		return s.handleRPC(ctx, cmd)
	case protocol.OpHistory:
		return s.handleHistory(ctx, cmd)
	case protocol.OpPresence:
		return s.handlePresence(ctx, cmd)
	case protocol.OpRefresh:
		return s.handleRefresh(ctx, cmd)
	default:
		return fail(protocol.NewError(protocol.CodeBadRequest, "unknown op "+quoteOp(cmd.Op)))
	}
	return result{}
}

func quoteOp(op string) string {
	if len(op) > 32 {
		op = op[:32] + "..."
	}
	return string(protocol.AppendString(nil, op))
}

// result is what a command handler produces: a result value or an error.
type result struct {
	value   any
	err     error
	replied bool
}

func ok(v any) result          { return result{value: v} }
func fail(err error) result    { return result{err: err} }
func failCode(code int) result { return fail(protocol.NewError(code)) }

// replied is returned by command handlers that queued their reply
// themselves.
var replied = result{replied: true}

func (s *Session) reply(id uint64, r result) {
	if !r.replied {
		s.enqueue(s.encodeReply(id, r))
	}
}

// encodeReply encodes the reply to command id. An error that is not an
// *Error is logged and reaches the client as code 100.
func (s *Session) encodeReply(id uint64, r result) []byte {
	if r.err != nil {
		pe, known := toProtocolError(r.err)
		if !known {
			s.logger().Error("command failed", "id", id, "error", r.err)
			s.node.recent.error("command failed: " + r.err.Error())
		}
		b, _ := s.enc.EncodeReply(&protocol.Reply{ID: id, Error: pe})
		return b
	}
	b, err := s.enc.EncodeReply(&protocol.Reply{ID: id, Result: r.value})
	if err != nil {
		s.logger().Error("encode reply", "error", err)
		b, _ = s.enc.EncodeReply(&protocol.Reply{ID: id, Error: protocol.NewError(protocol.CodeInternal)})
	}
	return b
}

func (s *Session) replyError(id uint64, e *protocol.Error) {
	s.reply(id, fail(e))
}

func (s *Session) handleRPC(ctx context.Context, cmd *protocol.Command) result {
	h := s.node.handlers.Load().rpcHandler(cmd.Method)
	if h == nil {
		return fail(protocol.NewError(protocol.CodeMethodNotFound, "method not found: "+quoteOp(cmd.Method)))
	}
	v, err := h(ctx, s, cmd.Data)
	if err != nil {
		return fail(err)
	}
	data, err := protocol.EncodeData(v)
	if err != nil {
		return fail(fmt.Errorf("%w: %v", ErrInvalidData, err))
	}
	return ok(&protocol.RPCResult{Data: data})
}
