package webhook

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/heraldrt/herald"
)

// The events a crashed node owed.
//
// A node that shuts down emits the user_offline, channel_vacated and
// member_removed events of what it held (Close). One that crashes cannot:
// its entries in the sets stay until the broker's presence TTL removes
// them, and nobody would look. So every node lists the keys it holds in a
// set of its own, nodeSet(name), and the others settle that list when the
// node is lost: the cluster view reports a node silent for three announce
// intervals without having said goodbye (herald.Node.OnNodeLost), well
// within the presence TTL (15 s against 45 s by default), while its list
// is still there. For each key of the list, the settling node removes the
// lost node's entry from the key's set and, when the set is then empty,
// emits the event the lost node owed; then it unlists the key.
//
// One node settles, so that each event is sent once: the live node whose
// name sorts first does it at once; each other live node settles again
// settleStep later per rank (the second after settleStep, the third after
// twice that...), and finds an empty list unless the ones before it died
// too, or failed. Events are at least once: a settling node that dies
// before its queue is delivered loses those events, and the next one
// emits what is still listed.
//
// A node restarted under the same name settles its own earlier list when
// it attaches, for the keys it does not hold again, since the others may
// not have noticed that it was gone.
//
// A node cut off from its broker for as long is taken for lost by the
// others, though its clients may still be there: they settle its keys. It
// hears that (OnNodeLost with its own name, once it hears itself again)
// and records its keys anew, which emits user_online, channel_occupied
// and member_added again for those that nobody else holds. And a node
// reported lost that is live again by the time a node settles it is left
// alone.

// settleStep separates the settling of a lost node by the live nodes, by
// their rank in name order.
const settleStep = 5 * time.Second

// nodeSet is the presence set in which the node called name lists the
// keys it holds.
func nodeSet(name string) string { return "herald webhook node " + name }

// String encodes k as its entry in a node's list: the kind, a space, and
// the user ('u'), the channel ('c') or the channel, a space and the user
// ('m'). Channel names hold no space, so the parts cannot be confused.
func (k key) String() string {
	switch k.kind {
	case 'u':
		return "u " + k.user
	case 'c':
		return "c " + k.channel
	default:
		return "m " + k.channel + " " + k.user
	}
}

// parseKey decodes what key.String encoded.
func parseKey(s string) (key, bool) {
	if len(s) < 2 || s[1] != ' ' {
		return key{}, false
	}
	rest := s[2:]
	switch s[0] {
	case 'u':
		return key{kind: 'u', user: rest}, true
	case 'c':
		return key{kind: 'c', channel: rest}, true
	case 'm':
		channel, user, ok := strings.Cut(rest, " ")
		return key{kind: 'm', channel: channel, user: user}, ok
	}
	return key{}, false
}

// nodeLost is the node's OnNodeLost handler: it schedules the settling of
// name's keys, at once or after settleStep per rank.
func (t *tracker) nodeLost(name string) {
	if name == t.id {
		t.mu.Lock()
		t.rejoined = true
		t.mu.Unlock()
		t.wake()
		return
	}
	var live []string
	for _, info := range t.n.Nodes() {
		if info.Name != name {
			live = append(live, info.Name)
		}
	}
	slices.Sort(live)
	rank := max(slices.Index(live, t.id), 0)
	t.settleAfter(name, time.Duration(rank)*settleStep)
}

// settleAfter queues name's keys for settling after delay.
func (t *tracker) settleAfter(name string, delay time.Duration) {
	queue := func() {
		t.mu.Lock()
		t.lost = append(t.lost, name)
		t.mu.Unlock()
		t.wake()
	}
	if delay <= 0 {
		queue()
		return
	}
	time.AfterFunc(delay, queue)
}

// wake makes the run goroutine look at the queues.
func (t *tracker) wake() {
	select {
	case t.signal <- struct{}{}:
	default:
	}
}

// settleLost settles the queued nodes; one whose broker calls fail is
// tried again a second later. After this node was taken for lost, it
// marks every key it holds for recording anew.
func (t *tracker) settleLost(ctx context.Context) {
	t.mu.Lock()
	lost := t.lost
	t.lost = nil
	if t.rejoined {
		t.rejoined = false
		for k, has := range t.recorded {
			if has {
				t.recorded[k] = false
				t.dirty[k] = struct{}{}
			}
		}
		defer t.wake()
	}
	t.mu.Unlock()
	for _, name := range lost {
		if err := t.settle(ctx, name); err != nil {
			if ctx.Err() != nil {
				return
			}
			t.w.log.Warn("webhook: cannot settle the events of a lost node yet; retrying", "lost_node", name, "error", err)
			t.settleAfter(name, time.Second)
		}
	}
}

// settle emits what the node called name owed for the keys it listed and
// unlists them. For this node's own name (a restart), the keys it holds
// again are left alone.
func (t *tracker) settle(ctx context.Context, name string) error {
	if t.ps == nil {
		return nil
	}
	if name != t.id && slices.ContainsFunc(t.n.Nodes(), func(info herald.NodeInfo) bool { return info.Name == name }) {
		return nil // heard again: not lost after all
	}
	list := nodeSet(name)
	held, err := t.ps.Presence(ctx, list)
	if err != nil {
		return err
	}
	for entry := range held {
		k, ok := parseKey(entry)
		if name == t.id && ok && t.recorded[k] {
			continue
		}
		if ok {
			if err := t.ps.RemovePresence(ctx, k.set(), name); err != nil {
				return err
			}
			all, err := t.ps.Presence(ctx, k.set())
			if err != nil {
				return err
			}
			if len(all) == 0 {
				t.w.emit(eventName(k.kind, false), k.channel, k.user)
			}
		}
		if err := t.ps.RemovePresence(ctx, list, entry); err != nil {
			return err
		}
	}
	return nil
}
