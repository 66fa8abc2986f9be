package herald

import (
	"fmt"
	"path"
	"time"
)

// NodeInfo describes a node's state.
type NodeInfo struct {
	Name          string  `json:"name"`
	Version       string  `json:"version"`
	Connections   int     `json:"connections"`
	Users         int     `json:"users"`
	Channels      int     `json:"channels"`
	Subscriptions int     `json:"subscriptions"`
	Uptime        float64 `json:"uptime"` // seconds
	Draining      bool    `json:"draining"`
}

// Info describes this node.
func (n *Node) Info() NodeInfo {
	channels, subs := n.hub.counts()
	n.sessionsMu.RLock()
	users := len(n.users)
	n.sessionsMu.RUnlock()
	return NodeInfo{
		Name:          n.cfg.Name,
		Version:       heraldVersion(),
		Connections:   n.Connections(),
		Users:         users,
		Channels:      channels,
		Subscriptions: subs,
		Uptime:        time.Since(n.started).Seconds(),
		Draining:      n.draining.Load(),
	}
}

// Connections returns the number of open connections on this node,
// including those that have not sent connect yet.
func (n *Node) Connections() int { return int(n.accepted.Load()) }

// Channels lists the channels with subscribers on this node, with their
// subscriber counts, sorted by name. pattern, when not empty, filters names
// with path.Match syntax ("chat:*").
func (n *Node) Channels(pattern string) ([]ChannelInfo, error) {
	var match func(string) bool
	if pattern != "" {
		if _, err := path.Match(pattern, ""); err != nil {
			return nil, fmt.Errorf("herald: bad channel pattern %q: %w", pattern, err)
		}
		match = func(ch string) bool { ok, _ := path.Match(pattern, ch); return ok }
	}
	return n.hub.channels(match), nil
}
