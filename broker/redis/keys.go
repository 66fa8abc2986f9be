package redis

// Key layout. Every key of one channel carries the channel in a Redis
// Cluster hash tag, so the scripts that touch several of them run on one
// shard:
//
//	<prefix>:{<channel>}:m          hash: e = epoch, s = offset of the newest publication
//	<prefix>:{<channel>}:s          stream: one entry per kept publication, ID <offset>-0, field d = JSON
//	<prefix>:{<channel>}:k:<key>    string "<offset> <epoch>": an idempotency key, expires with its window
//	<prefix>:{<channel>}:p          hash: client id -> ClientInfo JSON (presence)
//	<prefix>:{<channel>}:pz         sorted set: client id scored by its expiry in Unix ms
//
// Pub/sub channels (a namespace of their own in Redis):
//
//	<prefix>:ps:<channel>           publications, joins and leaves of one channel
//	<prefix>:control                control messages for every node
type keys struct{ prefix string }

func (k keys) tag(channel string) string    { return k.prefix + ":{" + channel + "}" }
func (k keys) meta(channel string) string   { return k.tag(channel) + ":m" }
func (k keys) stream(channel string) string { return k.tag(channel) + ":s" }
func (k keys) idempotency(channel, key string) string {
	return k.tag(channel) + ":k:" + key
}
func (k keys) presence(channel string) string       { return k.tag(channel) + ":p" }
func (k keys) presenceExpiry(channel string) string { return k.tag(channel) + ":pz" }
func (k keys) pubsub(channel string) string         { return k.prefix + ":ps:" + channel }
func (k keys) control() string                      { return k.prefix + ":control" }

// channelOf returns the Herald channel of a pub/sub channel name.
func (k keys) channelOf(pubsub string) (string, bool) {
	p := k.prefix + ":ps:"
	if len(pubsub) <= len(p) || pubsub[:len(p)] != p {
		return "", false
	}
	return pubsub[len(p):], true
}
