package redis

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/rueidis"

	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/broker/internal/announce"
)

// presenceOwner remembers the presence entries this node added, so that it
// can refresh them before they expire. Entries of a node that stops
// refreshing (it crashed, or lost Redis for longer than the TTL) expire on
// their own.
type presenceOwner struct {
	mu      sync.Mutex
	entries map[string]map[string]string // channel -> client -> ClientInfo JSON
}

func (p *presenceOwner) init() { p.entries = make(map[string]map[string]string) }

func (p *presenceOwner) add(channel, client, info string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	set := p.entries[channel]
	if set == nil {
		set = make(map[string]string)
		p.entries[channel] = set
	}
	set[client] = info
}

func (p *presenceOwner) remove(channel, client string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if set := p.entries[channel]; set != nil {
		delete(set, client)
		if len(set) == 0 {
			delete(p.entries, channel)
		}
	}
}

// AddPresence implements broker.PresenceStore: the entry lives for
// Options.PresenceTTL, and this node refreshes it until RemovePresence.
func (b *Broker) AddPresence(ctx context.Context, channel string, info *broker.ClientInfo) error {
	if b.life.Closed() {
		return broker.ErrClosed
	}
	data, err := announce.Encode(info, 0)
	if err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	ctx, cancel := b.life.OpCtx(ctx)
	defer cancel()
	if err := b.presenceAdd(channel, info.Client, string(data)).exec(ctx, b); err != nil {
		return b.fail("add presence", err)
	}
	b.presence.add(channel, info.Client, string(data))
	return nil
}

// RemovePresence implements broker.PresenceStore.
func (b *Broker) RemovePresence(ctx context.Context, channel, client string) error {
	if b.life.Closed() {
		return broker.ErrClosed
	}
	b.presence.remove(channel, client)
	ctx, cancel := b.life.OpCtx(ctx)
	defer cancel()
	err := b.scripts.presenceRemove.Exec(ctx, b.client,
		[]string{b.keys.presence(channel), b.keys.presenceExpiry(channel)}, []string{client}).Error()
	return b.fail("remove presence", err)
}

// Presence implements broker.PresenceStore: it drops expired entries and
// returns the others, from every node.
func (b *Broker) Presence(ctx context.Context, channel string) (map[string]*broker.ClientInfo, error) {
	if b.life.Closed() {
		return nil, broker.ErrClosed
	}
	ctx, cancel := b.life.OpCtx(ctx)
	defer cancel()
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	all, err := b.scripts.presenceGet.Exec(ctx, b.client,
		[]string{b.keys.presence(channel), b.keys.presenceExpiry(channel)}, []string{now}).AsStrMap()
	if err != nil {
		return nil, b.fail("presence", err)
	}
	out := make(map[string]*broker.ClientInfo, len(all))
	for client, data := range all {
		info, err := announce.Decode([]byte(data))
		if err != nil {
			return nil, fmt.Errorf("redis: presence of %q in %q: %w", client, channel, err)
		}
		out[client] = info
	}
	return out, nil
}

// presenceCall is one run of presence_add.lua.
type presenceCall rueidis.LuaExec

func (b *Broker) presenceAdd(channel, client, info string) presenceCall {
	ttl := b.opts.PresenceTTL
	return presenceCall{
		Keys: []string{b.keys.presence(channel), b.keys.presenceExpiry(channel)},
		Args: []string{client, info, strconv.FormatInt(time.Now().Add(ttl).UnixMilli(), 10), strconv.FormatInt(ttl.Milliseconds(), 10)},
	}
}

func (c presenceCall) exec(ctx context.Context, b *Broker) error {
	return b.scripts.presenceAdd.Exec(ctx, b.client, c.Keys, c.Args).Error()
}

// refreshBatch is how many entries one pipelined refresh carries.
const refreshBatch = 256

// refreshPresence re-adds every entry this node added, in pipelined
// batches. Start runs it every third of the TTL, so that one missed
// refresh does not make anyone disappear.
func (b *Broker) refreshPresence() {
	b.presence.mu.Lock()
	calls := make([]rueidis.LuaExec, 0)
	for ch, set := range b.presence.entries {
		for client, info := range set {
			calls = append(calls, rueidis.LuaExec(b.presenceAdd(ch, client, info)))
		}
	}
	b.presence.mu.Unlock()
	for len(calls) > 0 {
		n := min(len(calls), refreshBatch)
		ctx, cancel := b.life.OpCtx(b.life.Context())
		for _, r := range b.scripts.presenceAdd.ExecMulti(ctx, b.client, calls[:n]...) {
			if err := r.Error(); err != nil {
				b.opts.Logger.Warn("redis broker: presence refresh failed", "err", err)
				break
			}
		}
		cancel()
		calls = calls[n:]
	}
}
