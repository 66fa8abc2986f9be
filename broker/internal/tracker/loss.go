package tracker

import "github.com/heraldrt/herald/broker"

// lose logs a state loss and tells the handler, if it wants to know.
func (t *Tracker) lose(ch, why string, args ...any) {
	t.cfg.Logger.Warn(t.cfg.Name+": publications lost for a channel: "+why, append([]any{"channel", ch}, args...)...)
	if h, ok := t.handler.(broker.StateLossHandler); ok {
		h.HandleStateLoss(ch)
	}
}
