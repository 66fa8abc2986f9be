package tracker

import "github.com/heraldrt/herald/broker"

// Deliver hands one live publication (in epoch, at history hint seq) to
// the handler, first filling any gap before it from history. A
// publication without an offset (no history) has nothing to check; one at
// or below the last delivered offset is a duplicate and is dropped.
func (c *Channel) Deliver(pub *broker.Publication, epoch string, seq uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone {
		return
	}
	t := c.t
	if pub.Offset == 0 {
		t.handler.HandlePublication(c.name, pub, "")
		return
	}
	if c.pos.Epoch != "" && epoch != c.pos.Epoch {
		t.lose(c.name, "the channel's history started again in a new epoch", "old", c.pos.Epoch, "new", epoch)
		c.pos.Offset, c.pos.Seq = pub.Offset-1, 0
	}
	if c.pos.Epoch == "" {
		c.pos.Seq = 0 // read the new epoch from its start
	}
	c.pos.Epoch = epoch
	if pub.Offset <= c.pos.Offset {
		return // a catch-up delivered it already
	}
	if pub.Offset > c.pos.Offset+1 {
		c.catchUp(pub.Offset - 1)
	}
	if pub.Offset <= c.pos.Offset {
		return // the catch-up found a new epoch beyond it
	}
	t.handler.HandlePublication(c.name, pub, epoch)
	c.pos.Offset, c.pos.Seq = pub.Offset, seq
}
