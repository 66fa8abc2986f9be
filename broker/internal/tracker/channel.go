package tracker

import (
	"context"
	"sync"

	"github.com/heraldrt/herald/broker"
)

// Channel is what the node has delivered of one subscribed channel. Its
// mutex is held while the handler runs, which keeps one channel's
// deliveries in order and never concurrent, whether they come live or
// from a catch-up.
type Channel struct {
	t    *Tracker
	name string

	mu   sync.Mutex
	pos  Position // of the last publication handed to the handler
	gone bool     // unsubscribed: deliver nothing more
	stop func(ctx context.Context)
}

// Join hands a live join to the handler, unless the channel was
// unsubscribed.
func (c *Channel) Join(info *broker.ClientInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.gone {
		c.t.handler.HandleJoin(c.name, info)
	}
}

// Leave hands a live leave to the handler, unless the channel was
// unsubscribed.
func (c *Channel) Leave(info *broker.ClientInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.gone {
		c.t.handler.HandleLeave(c.name, info)
	}
}
