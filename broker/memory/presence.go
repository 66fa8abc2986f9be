package memory

import (
	"context"

	"github.com/heraldrt/herald/broker"
)

var _ broker.PresenceStore = (*Broker)(nil)

// PublishJoin implements broker.Broker.
func (b *Broker) PublishJoin(_ context.Context, channel string, info *broker.ClientInfo) error {
	return b.deliverPresence(channel, info, true)
}

// PublishLeave implements broker.Broker.
func (b *Broker) PublishLeave(_ context.Context, channel string, info *broker.ClientInfo) error {
	return b.deliverPresence(channel, info, false)
}

func (b *Broker) deliverPresence(channel string, info *broker.ClientInfo, join bool) error {
	s, err := b.lockShard(channel)
	if err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.subs[channel]; !ok || b.handler == nil {
		return nil
	}
	if join {
		b.handler.HandleJoin(channel, info)
	} else {
		b.handler.HandleLeave(channel, info)
	}
	return nil
}

// AddPresence implements broker.PresenceStore.
func (b *Broker) AddPresence(_ context.Context, channel string, info *broker.ClientInfo) error {
	s, err := b.lockShard(channel)
	if err != nil {
		return err
	}
	defer s.mu.Unlock()
	set := s.presence[channel]
	if set == nil {
		set = make(map[string]*broker.ClientInfo)
		s.presence[channel] = set
	}
	set[info.Client] = info
	return nil
}

// RemovePresence implements broker.PresenceStore.
func (b *Broker) RemovePresence(_ context.Context, channel, client string) error {
	s, err := b.lockShard(channel)
	if err != nil {
		return err
	}
	defer s.mu.Unlock()
	if set := s.presence[channel]; set != nil {
		delete(set, client)
		if len(set) == 0 {
			delete(s.presence, channel)
		}
	}
	return nil
}

// Presence implements broker.PresenceStore.
func (b *Broker) Presence(_ context.Context, channel string) (map[string]*broker.ClientInfo, error) {
	s, err := b.lockShard(channel)
	if err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	out := make(map[string]*broker.ClientInfo, len(s.presence[channel]))
	for id, info := range s.presence[channel] {
		out[id] = info
	}
	return out, nil
}
