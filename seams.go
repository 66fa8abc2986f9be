package herald

import (
	"github.com/heraldrt/herald/broker"
	hs "github.com/heraldrt/herald/transport/httpstream"
	ws "github.com/heraldrt/herald/transport/websocket"
)

// The Node's two seams to the layers it drives. The broker and the
// transport call back into the engine through interfaces they define
// (broker.EventHandler, websocket.Peer); these adapters implement them on
// unexported methods, so that the plumbing is not part of Node's and
// Session's public API. The conversions cost nothing: an adapter is the
// same pointer under another type.

// brokerEvents is the Node as its broker's broker.EventHandler.
type brokerEvents Node

var (
	_ broker.EventHandler     = (*brokerEvents)(nil)
	_ broker.StateLossHandler = (*brokerEvents)(nil)
)

// HandlePublication delivers a publication to the channel's local
// subscribers.
func (e *brokerEvents) HandlePublication(channel string, pub *broker.Publication, epoch string) {
	(*Node)(e).handlePublication(channel, pub, epoch)
}

// HandleControl runs a control message from any node.
func (e *brokerEvents) HandleControl(data []byte) { (*Node)(e).handleControl(data) }

// HandleJoin delivers a join push to the channel's local subscribers.
func (e *brokerEvents) HandleJoin(channel string, info *broker.ClientInfo) {
	(*Node)(e).handleJoin(channel, info)
}

// HandleLeave delivers a leave push to the channel's local subscribers.
func (e *brokerEvents) HandleLeave(channel string, info *broker.ClientInfo) {
	(*Node)(e).handleLeave(channel, info)
}

// HandleStateLoss makes the channel's local subscribers recover: the
// broker could not deliver every publication of the channel in order.
func (e *brokerEvents) HandleStateLoss(channel string) { (*Node)(e).handleStateLoss(channel) }

// transportPeer is a Session as its connection's websocket.Peer or
// httpstream.Peer.
type transportPeer Session

var (
	_ ws.Peer = (*transportPeer)(nil)
	_ hs.Peer = (*transportPeer)(nil)
)

// HandleFrame runs the commands of one client message.
func (p *transportPeer) HandleFrame(frame []byte, text bool) { (*Session)(p).handleFrame(frame, text) }

// HandleClose ends the session once the connection is gone.
func (p *transportPeer) HandleClose(err error) { (*Session)(p).handleClose(err) }
