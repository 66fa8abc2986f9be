package nats

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/broker/internal/announce"
)

// presenceOwner remembers the presence entries this node added, so that it
// can refresh them before the bucket's TTL removes them. Entries of a node
// that stops refreshing (it crashed, or lost NATS for longer than the TTL)
// expire on their own.
type presenceOwner struct {
	mu      sync.Mutex
	entries map[string][]byte // bucket key -> ClientInfo JSON
}

func (p *presenceOwner) init() { p.entries = make(map[string][]byte) }

func (p *presenceOwner) set(key string, info []byte) {
	p.mu.Lock()
	p.entries[key] = info
	p.mu.Unlock()
}

func (p *presenceOwner) has(key string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.entries[key]
	return ok
}

func (p *presenceOwner) remove(key string) {
	p.mu.Lock()
	delete(p.entries, key)
	p.mu.Unlock()
}

// presenceKey is the bucket key of a client in a channel: both names
// encoded as tokens, so that a channel's clients match "<token>.*".
func presenceKey(channel, client string) string {
	return channelToken(channel) + "." + channelToken(client)
}

// AddPresence implements broker.PresenceStore: the entry lives for
// Options.PresenceTTL, and this node refreshes it until RemovePresence.
func (b *Broker) AddPresence(ctx context.Context, channel string, info *broker.ClientInfo) error {
	if err := b.ready(); err != nil {
		return err
	}
	data, err := announce.Encode(info, 0)
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	ctx, cancel := b.life.OpCtx(ctx)
	defer cancel()
	key := presenceKey(channel, info.Client)
	if _, err := b.store.Load().presence.Put(ctx, key, data); err != nil {
		return b.fail("add presence", err)
	}
	b.presence.set(key, data)
	return nil
}

// RemovePresence implements broker.PresenceStore. Any node may remove any
// client.
func (b *Broker) RemovePresence(ctx context.Context, channel, client string) error {
	key := presenceKey(channel, client)
	b.presence.remove(key)
	if err := b.ready(); err != nil {
		return err
	}
	ctx, cancel := b.life.OpCtx(ctx)
	defer cancel()
	return b.fail("remove presence", b.store.Load().presence.Delete(ctx, key))
}

// Presence implements broker.PresenceStore: the channel's entries from
// every node, read with one watcher over "<channel token>.*".
func (b *Broker) Presence(ctx context.Context, channel string) (map[string]*broker.ClientInfo, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	ctx, cancel := b.life.OpCtx(ctx)
	defer cancel()
	out, err := b.readPresence(ctx, channel)
	return out, b.fail("presence", err)
}

// presenceSettle is how long a presence read listens on after its initial
// values, for an entry refreshed while the read started.
const presenceSettle = 10 * time.Millisecond

func (b *Broker) readPresence(ctx context.Context, channel string) (map[string]*broker.ClientInfo, error) {
	w, err := b.store.Load().presence.Watch(ctx, channelToken(channel)+".*", jetstream.IgnoreDeletes())
	if err != nil {
		return nil, err
	}
	defer func() { _ = w.Stop() }()
	out := make(map[string]*broker.ClientInfo)
	// The watcher's "initial values are in" marker can come before an
	// entry whose refresh replaced it while the watcher started (the old
	// message is gone, the new one not yet counted): such an entry arrives
	// just after the marker. Listen on briefly, until it is quiet.
	var quiet <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-quiet:
			return out, nil
		case e, ok := <-w.Updates():
			if !ok {
				return nil, errors.New("presence watcher stopped")
			}
			if e == nil {
				quiet = time.After(presenceSettle)
				continue
			}
			info, err := announce.Decode(e.Value())
			if err != nil {
				return nil, fmt.Errorf("entry %q: %w", e.Key(), err)
			}
			_, client, _ := strings.Cut(e.Key(), ".")
			if c, err := decodeToken(client); err == nil && c == info.Client {
				out[info.Client] = info
			}
		}
	}
}

// refreshPresence puts this node's entries again. Start runs it every
// third of the TTL, so that one missed refresh does not make anyone
// disappear.
func (b *Broker) refreshPresence() {
	b.presence.mu.Lock()
	entries := make(map[string][]byte, len(b.presence.entries))
	for k, v := range b.presence.entries {
		entries[k] = v
	}
	b.presence.mu.Unlock()
	kv := b.store.Load().presence
	for key, data := range entries {
		if !b.presence.has(key) {
			continue // removed since the copy: do not bring it back
		}
		ctx, cancel := b.life.OpCtx(b.life.Context())
		_, err := kv.Put(ctx, key, data)
		cancel()
		if err != nil {
			if b.life.Context().Err() == nil {
				b.opts.Logger.Warn("nats broker: presence refresh failed", "err", err)
			}
			break
		}
	}
}
