package tracker

import "context"

// catchUp delivers what history holds after the last delivered offset, up
// to upTo (to the head when 0), and reports a state loss for what history
// no longer holds. c.mu is held.
func (c *Channel) catchUp(upTo uint64) {
	t := c.t
	ctx, cancel := t.cfg.Life.OpCtx(context.Background())
	head, entries, err := t.cfg.History.Read(ctx, c.name, c.pos, upTo)
	cancel()
	switch {
	case err != nil:
		t.lose(c.name, "history unreachable", "err", err)
		return
	case head.Epoch == "":
		if c.pos.Epoch != "" {
			t.lose(c.name, "the channel's history is gone (expired, or "+t.cfg.Service+" lost its data)")
		}
		c.pos = Position{}
		return
	case c.pos.Epoch != "" && head.Epoch != c.pos.Epoch:
		t.lose(c.name, "the channel's history started again in a new epoch", "old", c.pos.Epoch, "new", head.Epoch)
		c.pos = head
		return
	}
	c.pos.Epoch = head.Epoch
	if upTo == 0 {
		upTo = head.Offset
	}
	lost := false
	for _, e := range entries {
		if e.Pub.Offset <= c.pos.Offset || e.Pub.Offset > upTo {
			continue
		}
		if e.Pub.Offset != c.pos.Offset+1 && !lost {
			lost = true
			t.lose(c.name, "history no longer holds missed publications", "from", c.pos.Offset+1, "to", e.Pub.Offset-1)
		}
		t.handler.HandlePublication(c.name, e.Pub, c.pos.Epoch)
		c.pos.Offset, c.pos.Seq = e.Pub.Offset, e.Seq
	}
	if c.pos.Offset < upTo {
		if !lost {
			t.lose(c.name, "history no longer holds missed publications", "from", c.pos.Offset+1, "to", upTo)
		}
		c.pos.Offset = upTo
	}
}

// CatchUpAll catches every subscribed channel up with its history: the
// broker calls it after its live feed was replaced, since whatever was
// published while it was down never reached this node.
func (t *Tracker) CatchUpAll() {
	t.eachChannel(func(c *Channel) {
		c.mu.Lock()
		if !c.gone {
			c.catchUp(0)
		}
		c.mu.Unlock()
	})
}

// CheckPositions compares every subscribed channel with the head of its
// history and catches up those behind it (or in another epoch): a lost
// last publication is followed by no gap that would reveal it. A channel
// without history, or whose head cannot be read now, is left alone: the
// check never reports a loss it has not seen. The broker calls it
// periodically (lifecycle.Every).
func (t *Tracker) CheckPositions() { t.eachChannel((*Channel).checkPosition) }

func (c *Channel) checkPosition() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone {
		return
	}
	ctx, cancel := c.t.cfg.Life.OpCtx(context.Background())
	head, err := c.t.cfg.History.Head(ctx, c.name)
	cancel()
	if err != nil || head.Epoch == "" {
		return
	}
	if head.Epoch != c.pos.Epoch || head.Offset > c.pos.Offset {
		c.catchUp(0)
	}
}

// eachChannel calls fn for every channel subscribed when it starts, one
// after another, until the broker closes.
func (t *Tracker) eachChannel(fn func(c *Channel)) {
	t.mu.Lock()
	chans := make([]*Channel, 0, len(t.chans))
	for _, c := range t.chans {
		chans = append(chans, c)
	}
	t.mu.Unlock()
	for _, c := range chans {
		if !t.cfg.Life.Enter() {
			return
		}
		fn(c)
		t.cfg.Life.Leave()
	}
}
