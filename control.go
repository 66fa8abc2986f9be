package herald

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	hs "github.com/heraldrt/herald/transport/httpstream"
)

// control is a message between nodes, carried by the broker.
type control struct {
	Op      string `json:"op"`
	User    string `json:"user,omitempty"`
	Client  string `json:"client,omitempty"`
	Channel string `json:"channel,omitempty"`
	Persist bool   `json:"persist,omitempty"`
	Code    int    `json:"code,omitempty"`
	Reason  string `json:"reason,omitempty"`
	// Node is the sender's info, for "node" and "node_leave" (cluster.go).
	Node *NodeInfo `json:"node,omitempty"`
	// Cmd is a POST's commands for a fallback stream held by another node,
	// for "cmd" (fallback.go).
	Cmd *hs.Commands `json:"cmd,omitempty"`
}

// handleControl runs a control message that a node (this one included)
// sent through the broker.
func (n *Node) handleControl(data []byte) {
	var c control
	if err := json.Unmarshal(data, &c); err != nil {
		n.log.Warn("ignored malformed control message", "error", err)
		return
	}
	switch c.Op {
	case "disconnect":
		for _, s := range n.sessionsOf(c.User, c.Client) {
			s.closeWith(c.Code, c.Reason)
		}
	case "subscribe":
		n.applyUserSubscribe(c.User, c.Channel, c.Persist)
	case "unsubscribe":
		n.applyUserUnsubscribe(c.User, c.Channel)
	case "node":
		if c.Node != nil && c.Node.Name != "" {
			n.cluster.heard(*c.Node, time.Now())
		}
	case "cmd":
		n.handleStreamCommands(c.Cmd)
	case "node_leave":
		if c.Node != nil {
			n.cluster.left(c.Node.Name)
		}
	default:
		n.log.Debug("ignored unknown control message", "op", c.Op)
	}
}

func (n *Node) sendControl(ctx context.Context, c control) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if err := n.broker.PublishControl(ctx, b); err != nil {
		return fmt.Errorf("herald: %s: %w", c.Op, err)
	}
	return nil
}
