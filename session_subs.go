package herald

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
