package herald

import (
	"context"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"
)

// The cluster view: every node announces itself through the broker (a
// control message with its NodeInfo) every Config.AnnounceInterval, and
// keeps the announcements of the others. A node that has not been heard
// of for three intervals is taken to be gone, and the OnNodeLost handlers
// are told (it crashed, or lost its broker); one that shuts down says so
// at once, and is not reported lost. With the embedded broker the cluster
// is this node alone.

// nodeSilence is how many announce intervals a node may miss before the
// others forget it.
const nodeSilence = 3

// cluster keeps the latest announcement of every node, this one included.
type cluster struct {
	mu    sync.Mutex
	nodes map[string]clusterNode
	lost  []func(name string) // the OnNodeLost handlers
	// deaf is set while this node's own announcements do not come back:
	// it lost its broker, so the silence of the others proves nothing.
	deaf bool
}

type clusterNode struct {
	info NodeInfo
	seen time.Time
}

// heard records an announcement.
func (c *cluster) heard(info NodeInfo, now time.Time) {
	c.mu.Lock()
	if c.nodes == nil {
		c.nodes = make(map[string]clusterNode)
	}
	c.nodes[info.Name] = clusterNode{info: info, seen: now}
	c.mu.Unlock()
}

// left forgets a node that said it is leaving.
func (c *cluster) left(name string) {
	c.mu.Lock()
	delete(c.nodes, name)
	c.mu.Unlock()
}

// live returns the nodes heard of since cutoff.
func (c *cluster) live(cutoff time.Time) []NodeInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]NodeInfo, 0, len(c.nodes))
	for _, cn := range c.nodes {
		if !cn.seen.Before(cutoff) {
			out = append(out, cn.info)
		}
	}
	return out
}

// expire forgets the nodes not heard of since cutoff, other than self,
// and returns their names with the handlers to tell.
//
// When self, once heard, was not heard since cutoff either, this node is
// cut off from its broker and heard nobody: it forgets and reports nobody
// (the others may be fine). When it hears itself again, the others get a
// full silence window from now to be heard again, and self is reported:
// the others may have taken this node for lost meanwhile.
func (c *cluster) expire(cutoff, now time.Time, self string) (names []string, tell []func(string)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if me, heard := c.nodes[self]; heard && me.seen.Before(cutoff) {
		c.deaf = true
		return nil, nil
	}
	if c.deaf {
		c.deaf = false
		for name, cn := range c.nodes {
			cn.seen = now
			c.nodes[name] = cn
		}
		return []string{self}, c.lost
	}
	for name, cn := range c.nodes {
		if cn.seen.Before(cutoff) {
			delete(c.nodes, name)
			if name != self {
				names = append(names, name)
			}
		}
	}
	return names, c.lost
}

// OnNodeLost adds a handler told the name of each node of the cluster that
// fell silent: not heard of for three announce intervals, without having
// said that it was leaving. It crashed, was killed, or lost its broker;
// a node that shuts down says so, and is not reported. The node checks at
// every announce interval, so a lost node is told between three and four
// intervals after its last announcement, by every node that heard it.
//
// A node hears its own announcements too. When those stop, it is the one
// cut off from the broker: it reports no other node meanwhile, and once
// it hears itself again, it reports its own name, since the others may
// have taken it for lost. Handlers run on the node's announce goroutine
// and must return quickly. Like OnActivity, it adds a handler rather than
// replacing one (package webhook settles the events a lost node owed).
func (n *Node) OnNodeLost(fn func(name string)) {
	n.cluster.mu.Lock()
	n.cluster.lost = append(n.cluster.lost[:len(n.cluster.lost):len(n.cluster.lost)], fn)
	n.cluster.mu.Unlock()
}

// reportLost forgets the nodes silent for too long and tells the
// OnNodeLost handlers.
func (n *Node) reportLost(now time.Time) {
	names, tell := n.cluster.expire(now.Add(-nodeSilence*n.cfg.AnnounceInterval), now, n.cfg.Name)
	slices.Sort(names)
	for _, name := range names {
		if name == n.cfg.Name {
			n.log.Warn("this node hears its broker again after three announce intervals without: the others may have taken it for lost",
				"silent_for_at_least", (nodeSilence * n.cfg.AnnounceInterval).String())
		} else {
			n.log.Warn("a node of the cluster fell silent without leaving: taken for lost", "lost_node", name,
				"silent_for", (nodeSilence * n.cfg.AnnounceInterval).String())
		}
		for _, fn := range tell {
			fn(name)
		}
	}
}

// Nodes describes every live node of the cluster, sorted by name: this
// node as it is now, and the others as of their last announcement (at most
// Config.AnnounceInterval old). A node is dropped from the list when it
// shuts down, or after three intervals without news (it crashed or lost
// its broker).
func (n *Node) Nodes() []NodeInfo {
	self := n.Info()
	out := []NodeInfo{self}
	for _, info := range n.cluster.live(time.Now().Add(-nodeSilence * n.cfg.AnnounceInterval)) {
		if info.Name != self.Name {
			out = append(out, info)
		}
	}
	slices.SortFunc(out, func(a, b NodeInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// announce tells the other nodes about this one until the node stops.
func (n *Node) announce() {
	t := time.NewTicker(n.cfg.AnnounceInterval)
	defer t.Stop()
	for {
		n.sendAnnouncement()
		n.reportLost(time.Now())
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sendAnnouncement publishes this node's info. A failure (the broker is
// away) is left to the next tick: the broker's own errors are logged and
// counted where they happen.
func (n *Node) sendAnnouncement() {
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.AnnounceInterval)
	defer cancel()
	info := n.Info()
	_ = n.sendControl(ctx, control{Op: "node", Node: &info})
}

// sendLeave tells the other nodes that this one is going, so that they
// drop it from their view at once.
func (n *Node) sendLeave(ctx context.Context) {
	_ = n.sendControl(ctx, control{Op: "node_leave", Node: &NodeInfo{Name: n.cfg.Name}})
}

// heraldVersion is the version of the herald module in this binary:
// the main module's when herald is the program, the dependency's when it
// is embedded, "(devel)" for a build from a work tree.
var heraldVersion = sync.OnceValue(func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(devel)"
	}
	const module = "github.com/heraldrt/herald"
	if bi.Main.Path == module && bi.Main.Version != "" {
		return bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == module && d.Version != "" {
			return d.Version
		}
	}
	return "(devel)"
})
