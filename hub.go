package herald

import (
	"context"
	"hash/maphash"
	"sort"
	"sync"

	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/protocol"
)

const hubShards = 64

// hub maps channels to this node's subscriptions and fans publications out
// to them. It also keeps the broker subscribed to exactly the channels that
// have a local subscriber.
//
// Lock order: shard.subMu, then shard.mu, then Session.mu. Fan-out holds
// shard.mu for reading while it enqueues to each session, so a Session must
// never call into the hub while holding its own mu.
type hub struct {
	seed   maphash.Seed
	shards [hubShards]hubShard
	// brokerSub and brokerUnsub tell the broker which channels this node
	// needs.
	brokerSub, brokerUnsub func(ctx context.Context, channel string) error
}

type hubShard struct {
	// subMu serializes the broker subscribe/unsubscribe calls of this
	// shard's channels, so that a channel's first subscribe and last
	// unsubscribe can never pass each other. Fan-out does not take it.
	subMu    sync.Mutex
	mu       sync.RWMutex
	channels map[string]*channelSubs
}

// channelSubs is one channel's local subscriptions, in a slice for fast
// fan-out. Each subscription knows its place in the slice
// (subscription.hubIndex), for removal in constant time.
type channelSubs struct {
	name *string // the channel, shared by its subscriptions (intern)
	list []*subscription
	// binary counts the subscriptions in list whose session speaks the
	// binary encoding, so that fan-out encodes a publication only in the
	// encodings its subscribers use.
	binary int
}

func newHub(sub, unsub func(ctx context.Context, channel string) error) *hub {
	h := &hub{seed: maphash.MakeSeed(), brokerSub: sub, brokerUnsub: unsub}
	for i := range h.shards {
		h.shards[i].channels = make(map[string]*channelSubs)
	}
	return h
}

func (h *hub) shard(channel string) *hubShard {
	return &h.shards[maphash.String(h.seed, channel)%hubShards]
}

// add registers sub; the first local subscription of a channel subscribes the
// broker, and if that fails sub is not added.
func (h *hub) add(ctx context.Context, sub *subscription) error {
	sh := h.shard(sub.channel())
	sh.subMu.Lock()
	defer sh.subMu.Unlock()
	sh.mu.RLock()
	_, exists := sh.channels[sub.channel()]
	sh.mu.RUnlock()
	if !exists {
		if err := h.brokerSub(ctx, sub.channel()); err != nil {
			return err
		}
	}
	sh.mu.Lock()
	cs := sh.channels[sub.channel()]
	if cs == nil {
		cs = &channelSubs{name: sub.name}
		sh.channels[sub.channel()] = cs
	}
	sub.hubIndex = int32(len(cs.list))
	cs.list = append(cs.list, sub)
	if sub.session.enc.Binary() {
		cs.binary++
	}
	sh.mu.Unlock()
	return nil
}

// intern returns the name a new subscription to channel refers to: the one
// the hub holds when the channel has local subscribers, so that they all
// share it (a subscription then costs one pointer for its name), or a new
// one.
func (h *hub) intern(channel string) *string {
	sh := h.shard(channel)
	sh.mu.RLock()
	cs := sh.channels[channel]
	sh.mu.RUnlock()
	if cs != nil {
		return cs.name
	}
	return &channel
}

// remove unregisters sub; the last local subscription of a channel
// unsubscribes the broker.
func (h *hub) remove(ctx context.Context, sub *subscription) {
	sh := h.shard(sub.channel())
	sh.subMu.Lock()
	defer sh.subMu.Unlock()
	sh.mu.Lock()
	cs := sh.channels[sub.channel()]
	if cs == nil {
		sh.mu.Unlock()
		return
	}
	i := int(sub.hubIndex)
	if i < 0 || i >= len(cs.list) || cs.list[i] != sub {
		sh.mu.Unlock()
		return // not added, or removed already
	}
	last := len(cs.list) - 1
	cs.list[i] = cs.list[last]
	cs.list[i].hubIndex = int32(i)
	cs.list[last] = nil
	cs.list = cs.list[:last]
	sub.hubIndex = -1
	if sub.session.enc.Binary() {
		cs.binary--
	}
	empty := len(cs.list) == 0
	if empty {
		delete(sh.channels, sub.channel())
	}
	sh.mu.Unlock()
	if empty {
		// An error leaves the broker sending this node a channel nobody
		// here wants; the node drops such publications.
		_ = h.brokerUnsub(ctx, sub.channel())
	}
}

// broadcast encodes a publication once in each encoding its local
// subscribers use and hands the same bytes to each of them; it returns
// how many there were.
func (h *hub) broadcast(channel string, pub *broker.Publication, epoch string) int {
	sh := h.shard(channel)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	cs := sh.channels[channel]
	if cs == nil {
		return 0
	}
	var enc byEncoding
	if cs.binary < len(cs.list) {
		size := 80 + len(channel) + len(pub.Data)
		if pub.Binary {
			size += len(pub.Data)/3 + 4 // base64
		}
		enc[protocol.JSON] = protocol.AppendPub(make([]byte, 0, size), channel, pub, epoch)
	}
	if cs.binary > 0 {
		enc[protocol.Protobuf] = protocol.AppendPubProtobuf(make([]byte, 0, 48+len(channel)+len(pub.Data)), channel, pub, epoch)
	}
	// Sessions that need a writer are handed over in batches: one lock and
	// one wake-up per batch instead of one per subscriber.
	var b scheduleBatch
	for _, sub := range cs.list {
		sub.session.deliver(sub, enc[sub.session.enc], pub.Offset, &b)
	}
	b.flush()
	return len(cs.list)
}

// byEncoding holds one message encoded in each encoding, by Encoding.
type byEncoding [2][]byte

// broadcastJoinLeave hands a join or leave push, encoded once in each
// encoding its recipients use, to the local subscriptions of channel that
// asked for them, except the client it is about.
func (h *hub) broadcastJoinLeave(channel, client string, push *protocol.Push) {
	sh := h.shard(channel)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	cs := sh.channels[channel]
	if cs == nil {
		return
	}
	var enc byEncoding
	for _, sub := range cs.list {
		if sub.joinLeave && sub.session.id != client {
			e := sub.session.enc
			if enc[e] == nil {
				enc[e] = e.EncodePush(push)
			}
			sub.session.deliver(sub, enc[e], 0, nil)
		}
	}
}

// sessions returns the sessions with a local subscription to channel.
func (h *hub) sessions(channel string) []*Session {
	sh := h.shard(channel)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	cs := sh.channels[channel]
	if cs == nil {
		return nil
	}
	out := make([]*Session, len(cs.list))
	for i, sub := range cs.list {
		out[i] = sub.session
	}
	return out
}

// ChannelInfo describes one channel with subscribers on this node.
type ChannelInfo struct {
	Channel     string `json:"channel"`
	Subscribers int    `json:"subscribers"`
}

// channels lists the channels that have local subscribers, sorted by name,
// filtered by match when it is not nil.
func (h *hub) channels(match func(string) bool) []ChannelInfo {
	var out []ChannelInfo
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.RLock()
		for ch, cs := range sh.channels {
			if match == nil || match(ch) {
				out = append(out, ChannelInfo{Channel: ch, Subscribers: len(cs.list)})
			}
		}
		sh.mu.RUnlock()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Channel < out[j].Channel })
	return out
}

// counts returns the number of channels and subscriptions on this node.
func (h *hub) counts() (channels, subscriptions int) {
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.RLock()
		channels += len(sh.channels)
		for _, cs := range sh.channels {
			subscriptions += len(cs.list)
		}
		sh.mu.RUnlock()
	}
	return channels, subscriptions
}
