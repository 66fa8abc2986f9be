// Package announce is how the distributed Herald brokers (Redis, NATS)
// tell nodes who joins and leaves a channel: a ClientInfo as JSON, after a
// kind byte on a channel's live feed, alone in a presence store.
package announce

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/heraldrt/herald/broker"
)

// The first byte of a message on a channel's live feed says what follows.
const (
	KindPublication = 'p'
	KindJoin        = 'j'
	KindLeave       = 'l'
)

// Encode returns info as JSON, after kind unless kind is 0.
func Encode(info *broker.ClientInfo, kind byte) ([]byte, error) {
	data, err := json.Marshal(info)
	if err != nil {
		return nil, fmt.Errorf("encode client info: %w", err)
	}
	if kind == 0 {
		return data, nil
	}
	return append([]byte{kind}, data...), nil
}

// Decode parses the JSON of a ClientInfo.
func Decode(data []byte) (*broker.ClientInfo, error) {
	info := new(broker.ClientInfo)
	if err := json.Unmarshal(data, info); err != nil {
		return nil, err
	}
	return info, nil
}

// Announcer implements broker.Broker's PublishJoin and PublishLeave; a
// broker embeds it.
type Announcer struct {
	// Name starts an encoding error: "redis".
	Name string
	// Send puts msg on channel's live feed, to every node subscribed to
	// it, and returns the error a caller sees.
	Send func(ctx context.Context, channel string, msg []byte) error
}

// PublishJoin implements broker.Broker.
func (a Announcer) PublishJoin(ctx context.Context, channel string, info *broker.ClientInfo) error {
	return a.announce(ctx, channel, info, KindJoin)
}

// PublishLeave implements broker.Broker.
func (a Announcer) PublishLeave(ctx context.Context, channel string, info *broker.ClientInfo) error {
	return a.announce(ctx, channel, info, KindLeave)
}

func (a Announcer) announce(ctx context.Context, channel string, info *broker.ClientInfo, kind byte) error {
	msg, err := Encode(info, kind)
	if err != nil {
		return fmt.Errorf("%s: %w", a.Name, err)
	}
	return a.Send(ctx, channel, msg)
}
