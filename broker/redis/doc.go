// Package redis is a Herald broker on Redis 7: nodes exchange publications
// through Redis pub/sub, channel history lives in Redis Streams, presence
// in hashes with per-entry expiry. A Broker implements broker.Broker,
// broker.PresenceStore and broker.Pinger, and passes brokertest.Run and
// brokertest.RunCluster. It is built on github.com/redis/rueidis (see
// docs/benchmarks.md, "The Redis client", for why).
//
//	b, err := redis.New("redis://:secret@10.0.0.5:6379/0", redis.Options{Prefix: "chat"})
//	if err != nil { ... }
//	node, err := herald.New(herald.Config{Broker: b})
//
// # Connecting
//
// New takes a URL:
//
//	redis://[[user]:password@]host[:port][/db]      one server (port 6379)
//	rediss://...                                    the same over TLS (Options.TLSConfig to customise)
//	redis://[:password@]host1:port,host2:port       Redis Cluster, by its seed nodes
//	redis+sentinel://[:password@]host:port[,host:port]/mastername[/db]
//	rediss+sentinel://...                           Sentinel, master over TLS
//
// A cluster is named by several comma-separated addresses; one address of a
// cluster node works as well, since the client asks the server whether it
// runs in cluster mode. userinfo without a colon (redis://secret@host) is
// taken as a password. Sentinel ports default to 26379 and the URL's
// password is the master's. A URL New cannot use gives an error wrapping
// ErrInvalidURL that names the wrong part and lists the forms; the password
// is never shown.
//
// # Key layout
//
// All names start with Options.Prefix ("herald"), so several clusters or
// test runs share one Redis. Every key of a channel carries the channel in
// a hash tag, so that one script can touch them all on a Redis Cluster:
//
//	<prefix>:{<channel>}:m          hash: e = epoch, s = newest offset
//	<prefix>:{<channel>}:s          stream: entry ID <offset>-0, field d = publication JSON
//	<prefix>:{<channel>}:k:<key>    "<offset> <epoch>", an idempotency key (PX = its window)
//	<prefix>:{<channel>}:p          hash: client -> ClientInfo JSON
//	<prefix>:{<channel>}:pz         sorted set: client scored by expiry (Unix ms)
//	<prefix>:ps:<channel>           pub/sub channel: publications, joins, leaves
//	<prefix>:control                pub/sub channel: control messages to every node
//
// # Publishing: one script
//
// A publication on a channel with history (or with an idempotency key) is
// one EVALSHA of lua/publish.lua, which in one atomic step checks the
// idempotency key (shared by every node: a duplicate returns the first
// publication's position), creates the stream's meta with a fresh epoch if
// it has none, increments the offset, XADDs the publication with ID
// <offset>-0 and an exact MAXLEN of HistorySize, sets or clears the TTL of
// meta and stream (HistoryTTL), stores the idempotency key, and PUBLISHes
// "p<offset> <epoch> <json>" to the channel's pub/sub channel. Offsets are
// stream IDs, so History reads are XRANGE/XREVRANGE by ID (lua/history.lua,
// which also reads the position in the same step). A channel without
// history and key is one plain PUBLISH with offset 0 and epoch "" (on a
// Redis Cluster sent through lua/publish_plain.lua, so that it leaves from
// the node that owns the channel's slot and keeps its order).
//
// Epochs come from the data: a meta that expired with its history, or that
// a Redis restarted without persistence lost, is created again with a new
// epoch at the next publish, so clients recovering with the old epoch learn
// recovered:false instead of silently missing publications. History on a
// stream that does not exist creates its meta (offset 0, kept for
// Options.EmptyStreamTTL) so that the epoch a subscriber was told is still
// right when the first publication comes.
//
// # Delivery without gaps
//
// Each node holds one pub/sub connection for all its channels: Subscribe
// and Unsubscribe add and remove one Redis subscription per node and
// channel, whatever the number of clients, and are idempotent. Redis
// pub/sub is at-most-once, so the broker tracks for each subscribed channel
// the epoch and the last offset it delivered:
//
//   - a publication with offset last+1 is delivered;
//   - one with a greater offset means pub/sub lost messages: the missing
//     ones are read from the stream and delivered first, in order;
//   - one at or below last was delivered already (by such a fill) and is
//     dropped;
//   - after the pub/sub connection is replaced (reconnect with jittered
//     exponential backoff, 50 ms to 2 s), every channel is resubscribed and
//     caught up with its stream's top.
//
// Subscribe reads the stream's position before it subscribes, so a
// publication made meanwhile is filled too. When a gap cannot be filled
// (trimmed, expired, a new epoch, or Redis unreachable during the fill) the
// broker calls HandleStateLoss if the EventHandler implements
// broker.StateLossHandler, then goes on from the stream's present. A
// channel's deliveries, fills and state-loss calls all hold that channel's
// lock, so they never overlap and keep the stream's order.
//
// # Presence
//
// AddPresence writes the client into the channel's hash and into a sorted
// set scored by now+PresenceTTL, and sets both keys' TTL. The node
// remembers the entries it added and rewrites them every PresenceTTL/3 in
// pipelined batches; Presence first drops entries whose score has passed.
// Entries of a node that crashed, or lost Redis for longer than the TTL,
// thus disappear within PresenceTTL (default 45 s) with no one cleaning up.
//
// # Failure behaviour
//
// Every call a caller makes (Publish, History, presence, Ping, the reads
// of Subscribe) is bounded by Options.Timeout (default 1 s). While Redis is
// unreachable or stalled they fail within it with an error wrapping
// broker.ErrUnavailable; a Publish that fails may or may not have been
// applied, but a Publish that returns nil was applied: there is no false
// acknowledgement. Redis replies that mean "not now" (LOADING, MASTERDOWN,
// CLUSTERDOWN, READONLY, ...) count as unavailable too. Ping fails while
// Redis is down, so /readyz reports the node unready. The client library
// reconnects its command connections by itself; the pub/sub loop
// reconnects its own. Close stops the loops, waits for handler calls in
// flight and closes every connection.
//
// # Limits
//
// Subscriptions use plain SUBSCRIBE; on a Redis Cluster every message goes
// to every cluster node (sharded pub/sub, SSUBSCRIBE, would not, and is
// left for later), and the cluster forwards it between its nodes
// asynchronously: a join or leave published just before a node subscribes
// may still reach it. Publications are unaffected: offsets make them
// exact. TestOnRedisCluster runs the two-node suite on a real three-master
// Redis Cluster, and TestThroughSentinel through a real Sentinel. Catch-up after a reconnect reads channels one at a time.
// A client removed while a presence refresh is in flight may stay present
// until its entry's TTL.
package redis
