package tracker

import (
	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/broker/internal/announce"
)

// ParsePub reads the body of a publication message of a broker's live
// feed (what follows announce.KindPublication): the publication, its
// epoch and its Seq hint.
type ParsePub[M ~string | ~[]byte] func(body M) (pub *broker.Publication, epoch string, seq uint64, err error)

// Receive hands one message of channel's live feed to the channel, if it
// is subscribed: its first byte says what it is (package announce). A
// malformed message is logged and dropped. The caller holds the
// lifecycle's Enter.
func Receive[M ~string | ~[]byte](t *Tracker, channel string, msg M, parsePub ParsePub[M]) {
	if len(msg) == 0 {
		return
	}
	c := t.Channel(channel)
	if c == nil {
		return
	}
	switch msg[0] {
	case announce.KindPublication:
		pub, epoch, seq, err := parsePub(msg[1:])
		if err != nil {
			t.cfg.Logger.Error(t.cfg.Name+": dropped a malformed publication", "channel", channel, "err", err)
			return
		}
		c.Deliver(pub, epoch, seq)
	case announce.KindJoin, announce.KindLeave:
		info, err := announce.Decode([]byte(msg[1:]))
		if err != nil {
			t.cfg.Logger.Error(t.cfg.Name+": dropped a malformed presence message", "channel", channel, "err", err)
			return
		}
		if msg[0] == announce.KindJoin {
			c.Join(info)
		} else {
			c.Leave(info)
		}
	}
}
