package webhook

import (
	"context"
	"sync"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/broker"
)

// How the cluster-wide events are decided.
//
// Each node counts, from herald.OnActivity, its own connections per user,
// subscriptions per channel and presence subscriptions per channel and
// user. When one of these counts goes from zero to one or back, the key
// (the user, the channel, the member) is marked dirty, and one goroutine
// reconciles dirty keys with the broker's presence store: a node with the
// key adds itself as an entry of the key's set ("herald webhook user
// ann"), a node without it removes itself. The first entry of a set is the
// cluster's first (user_online, channel_occupied, member_added): a node
// reads the set before adding itself and emits when no other node is in
// it. The last is the cluster's last (user_offline, channel_vacated,
// member_removed): a node removes itself, reads the set, and emits when it
// is empty.
//
// Why the presence store rather than the nodes' announcements: it is
// shared at once (announcements come every few seconds, so an event would
// lag and two nodes could both miss a change), and its entries expire
// when a node dies, which the next transition then sees. The same
// mechanism keeps the per-user connection limit (user_limit.go).
//
// Races lean toward duplicates: two nodes getting a key at once may both
// read an empty set and both emit (the receiver sees two user_online for
// one user, with different ids), and two nodes losing it at once may both
// read an empty set. Quick flaps within one reconciliation (a connection
// that comes and goes in a few milliseconds) may emit nothing.
//
// A node's entry in the sets is its name, and it also lists every key it
// holds in a set of its own ("herald webhook node NAME"), so that when it
// crashes the others can emit what it owed (settle.go).

// key is one tracked thing.
type key struct {
	kind    byte // 'u' user, 'c' channel, 'm' member
	channel string
	user    string
}

// set is the key's presence set in the broker. Channel names hold no
// space, so the parts cannot be confused.
func (k key) set() string {
	switch k.kind {
	case 'u':
		return "herald webhook user " + k.user
	case 'c':
		return "herald webhook channel " + k.channel
	default:
		return "herald webhook member " + k.channel + " " + k.user
	}
}

// tracker keeps the local counts and reconciles them with the cluster.
type tracker struct {
	w    *Webhooks
	ps   broker.PresenceStore // nil: this node alone
	id   string               // this node's entry in the sets: its name
	node string               // the node's name, for events
	n    *herald.Node         // for the cluster's live nodes (settle.go)

	mu       sync.Mutex
	counts   map[key]int
	dirty    map[key]struct{}
	recorded map[key]bool // under the run goroutine only
	lost     []string     // nodes whose keys to settle now (settle.go)
	rejoined bool         // the others took this node for lost (settle.go)
	signal   chan struct{}
}

func newTracker(w *Webhooks) *tracker {
	return &tracker{
		w: w, ps: w.cfg.Presence,
		counts: map[key]int{}, dirty: map[key]struct{}{}, recorded: map[key]bool{},
		signal: make(chan struct{}, 1),
	}
}

// observe is the node's activity handler: it only counts and marks.
func (t *tracker) observe(a herald.Activity) {
	if a.Kind == herald.ActivityPublished {
		t.w.published(a)
		return
	}
	user := a.Session.User()
	var keys []key
	switch a.Kind {
	case herald.ActivityConnected, herald.ActivityDisconnected:
		if user != "" {
			keys = append(keys, key{kind: 'u', user: user})
		}
	case herald.ActivitySubscribed, herald.ActivityUnsubscribed:
		keys = append(keys, key{kind: 'c', channel: a.Channel})
		if a.Presence && user != "" {
			keys = append(keys, key{kind: 'm', channel: a.Channel, user: user})
		}
	}
	if len(keys) == 0 {
		return
	}
	delta := 1
	if a.Kind == herald.ActivityDisconnected || a.Kind == herald.ActivityUnsubscribed {
		delta = -1
	}
	t.mu.Lock()
	for _, k := range keys {
		n := t.counts[k] + delta
		if n <= 0 {
			delete(t.counts, k)
		} else {
			t.counts[k] = n
		}
		if (n == 1 && delta == 1) || n <= 0 {
			t.dirty[k] = struct{}{}
		}
	}
	t.mu.Unlock()
	select {
	case t.signal <- struct{}{}:
	default:
	}
}

// run reconciles dirty keys until ctx ends.
func (t *tracker) run(ctx context.Context) {
	for {
		select {
		case <-t.signal:
		case <-ctx.Done():
			return
		}
		t.reconcile(ctx)
		t.settleLost(ctx)
	}
}

// reconcile handles every dirty key once; a key whose broker calls fail
// is marked dirty again and retried a second later.
func (t *tracker) reconcile(ctx context.Context) {
	t.mu.Lock()
	dirty := t.dirty
	t.dirty = map[key]struct{}{}
	t.mu.Unlock()
	failed := false
	for k := range dirty {
		t.mu.Lock()
		has := t.counts[k] > 0
		t.mu.Unlock()
		if has == t.recorded[k] {
			continue
		}
		if err := t.transition(ctx, k, has); err != nil {
			if ctx.Err() != nil {
				return
			}
			t.w.log.Warn("webhook: cannot read the cluster's presence; retrying", "set", k.set(), "error", err)
			t.mu.Lock()
			t.dirty[k] = struct{}{}
			t.mu.Unlock()
			failed = true
		}
	}
	if failed {
		time.AfterFunc(time.Second, func() {
			select {
			case t.signal <- struct{}{}:
			default:
			}
		})
	}
}

// transition records this node's gaining (has) or losing the key, and
// emits the event when the cluster gained or lost it.
func (t *tracker) transition(ctx context.Context, k key, has bool) error {
	first := true
	if t.ps != nil {
		// The node's own list holds at least what the sets hold: a key
		// is listed before it is added, and unlisted after it is removed.
		var err error
		if has {
			first, err = t.alone(ctx, k)
			if err == nil {
				err = t.ps.AddPresence(ctx, nodeSet(t.id), &broker.ClientInfo{Client: k.String()})
			}
			if err == nil {
				err = t.ps.AddPresence(ctx, k.set(), &broker.ClientInfo{Client: t.id})
			}
		} else {
			if err = t.ps.RemovePresence(ctx, k.set(), t.id); err == nil {
				first, err = t.alone(ctx, k)
			}
			if err == nil {
				err = t.ps.RemovePresence(ctx, nodeSet(t.id), k.String())
			}
		}
		if err != nil {
			return err
		}
	}
	t.recorded[k] = has
	if !first {
		return nil
	}
	t.w.emit(eventName(k.kind, has), k.channel, k.user)
	return nil
}

// alone reports whether no other node holds k.
func (t *tracker) alone(ctx context.Context, k key) (bool, error) {
	all, err := t.ps.Presence(ctx, k.set())
	if err != nil {
		return false, err
	}
	delete(all, t.id)
	return len(all) == 0, nil
}

func eventName(kind byte, gained bool) string {
	switch {
	case kind == 'u' && gained:
		return UserOnline
	case kind == 'u':
		return UserOffline
	case kind == 'c' && gained:
		return ChannelOccupied
	case kind == 'c':
		return ChannelVacated
	case gained:
		return MemberAdded
	default:
		return MemberRemoved
	}
}
