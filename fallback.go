package herald

import (
	"context"
	"errors"
	"net/http"

	hs "github.com/heraldrt/herald/transport/httpstream"
)

// The fallback transports (package transport/httpstream): HTTP-streaming
// and Server-Sent Events down, POSTed commands up, for clients that cannot
// open a WebSocket. A stream is a Session like any other; what is
// particular to it is here: accepting a stream, and carrying a POST that
// reached the wrong node to the node that holds the stream, through the
// broker (a "cmd" control message, control.go). Without sticky sessions,
// a client's POSTs land on any node behind the load balancer.

// FallbackHandler returns the http.Handler of the fallback transports: GET
// opens an HTTP stream (Server-Sent Events when the path ends in /sse) and
// POST carries commands for a stream held by any node. Mount it next to
// Handler; the herald binary and the SDKs use /stream, /sse and /cmd
// (docs/protocol.md, section 2.6).
func (n *Node) FallbackHandler() http.Handler { return n.streams }

// newStreamServer builds the fallback transport with the node's settings.
func (n *Node) newStreamServer() *hs.Server {
	return hs.NewServer(hs.Config{
		MaxMessageSize:  n.cfg.MaxMessageSize,
		MaxPendingBytes: n.cfg.WriteQueueSize,
		CheckOrigin:     n.cfg.CheckOrigin,
		ClientAddr:      n.ClientAddr,
		Forward:         n.forwardCommands,
		Logger:          n.log,
	}, n.acceptStream)
}

// acceptStream binds a new stream to a Session, with the admission rules
// of a WebSocket upgrade (node.go).
func (n *Node) acceptStream(r *http.Request, c *hs.Conn) (hs.Peer, int, string) {
	remote, status, msg := n.admitRequest(r)
	if status != 0 {
		return nil, status, msg
	}
	kind := transportHTTPStream
	if c.Transport() == "sse" {
		kind = transportSSE
	}
	return (*transportPeer)(n.newSession(c, kind, remote, r.Header.Clone())), 0, ""
}

// forwardCommands sends a POST's commands to every node; the one that holds
// the stream runs them (handleStreamCommands).
func (n *Node) forwardCommands(ctx context.Context, cmds hs.Commands) error {
	return n.sendControl(ctx, control{Op: "cmd", Cmd: &cmds})
}

// handleStreamCommands runs commands another node forwarded, when this node
// holds their stream.
func (n *Node) handleStreamCommands(cmds *hs.Commands) {
	if cmds == nil || len(cmds.Frame) > n.cfg.MaxMessageSize {
		n.log.Warn("ignored an oversized or empty forwarded command batch")
		return
	}
	switch err := n.streams.Deliver(*cmds); {
	case err == nil, errors.Is(err, hs.ErrUnknownSession):
		// Not ours, most of the time: every node sees every forward.
	case errors.Is(err, hs.ErrBadSecret):
		n.log.Warn("refused forwarded commands with a wrong stream secret", "session", cmds.Session)
	default:
		n.log.Debug("forwarded commands not delivered", "session", cmds.Session, "error", err)
	}
}
