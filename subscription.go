package herald

// subscription is one session's subscription to one channel. Until it is
// live, publications for it are held in pending (in arrival order) so that
// the subscribe reply always precedes them on the wire.
type subscription struct {
	session   *Session
	name      *string       // the channel, shared by the channel's subscriptions (hub.intern)
	pending   *[]pendingPub // under session.mu; nil once live, and while nothing is held
	hubIndex  int32         // its place in the hub's list of the channel, under the hub shard's mu
	joinLeave bool          // deliver join and leave pushes
	presence  bool          // the channel keeps presence: leave it on unsubscribe
	byToken   bool          // authorized with a channel token
	live      bool          // under session.mu
}

// channel returns the subscription's channel.
func (sub *subscription) channel() string { return *sub.name }

// held returns the publications held for the subscription. session.mu is
// held.
func (sub *subscription) held() []pendingPub {
	if sub.pending == nil {
		return nil
	}
	return *sub.pending
}

type pendingPub struct {
	data   []byte
	offset uint64
}

// subList holds a session's subscriptions. Connections hold a handful
// (Limits.MaxChannelsPerConnection bounds them), where a slice searched in
// order costs less memory than a map and is as fast.
type subList []*subscription

// get returns the subscription to channel, or nil.
func (l subList) get(channel string) *subscription {
	for _, sub := range l {
		if sub.channel() == channel {
			return sub
		}
	}
	return nil
}

// add appends sub; the caller has checked that its channel is not there.
func (l *subList) add(sub *subscription) { *l = append(*l, sub) }

// remove takes out and returns the subscription to channel, or nil.
func (l *subList) remove(channel string) *subscription {
	for i, sub := range *l {
		if sub.channel() == channel {
			last := len(*l) - 1
			(*l)[i] = (*l)[last]
			(*l)[last] = nil
			*l = (*l)[:last]
			return sub
		}
	}
	return nil
}
