package tracker

import "context"

// Listen starts the live feed of one channel, and returns the function
// that stops it.
type Listen func(ctx context.Context) (stop func(ctx context.Context), err error)

// Subscribe starts tracking channel from its history's present, then
// calls listen; subscribing twice is once. The position is read first, so
// that publications made while the live feed is set up are filled from
// history in order. On an error (reading the head, or from listen) the
// channel is not tracked; the error is returned as it is, for the broker
// to wrap. ctx is bounded by the lifecycle's OpCtx.
func (t *Tracker) Subscribe(ctx context.Context, channel string, listen Listen) error {
	l := t.lock(channel)
	l.Lock()
	defer l.Unlock()
	if t.Channel(channel) != nil {
		return nil
	}
	ctx, cancel := t.cfg.Life.OpCtx(ctx)
	defer cancel()
	head, err := t.cfg.History.Head(ctx, channel)
	if err != nil {
		return err
	}
	c := &Channel{t: t, name: channel, pos: head}
	t.mu.Lock()
	t.chans[channel] = c
	t.mu.Unlock()
	stop, err := listen(ctx)
	if err != nil {
		t.mu.Lock()
		delete(t.chans, channel)
		t.mu.Unlock()
		return err
	}
	c.mu.Lock()
	c.stop = stop
	c.mu.Unlock()
	return nil
}

// Unsubscribe stops tracking channel: nothing more of it is delivered
// once it returns. Then it stops the live feed, with ctx. It fails only
// after Close, with broker.ErrClosed: a broker's Unsubscribe is this.
func (t *Tracker) Unsubscribe(ctx context.Context, channel string) error {
	if err := t.cfg.Life.Ready(); err != nil {
		return err
	}
	l := t.lock(channel)
	l.Lock()
	defer l.Unlock()
	t.mu.Lock()
	c := t.chans[channel]
	delete(t.chans, channel)
	t.mu.Unlock()
	if c == nil {
		return nil
	}
	c.mu.Lock()
	c.gone = true
	stop := c.stop
	c.mu.Unlock()
	if stop != nil {
		stop(ctx)
	}
	return nil
}
