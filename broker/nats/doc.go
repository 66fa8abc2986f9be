// Package nats is a Herald broker on NATS, with the official nats.go
// client: core NATS subjects carry publications between nodes, JetStream
// keeps channel history and idempotency keys, and a JetStream key-value
// bucket keeps presence. It implements broker.Broker, broker.PresenceStore
// and broker.Pinger, passes the conformance suite (brokertest.Run and
// brokertest.RunCluster), and needs NATS 2.9 or later with JetStream.
//
//	b, err := nats.New("nats://127.0.0.1:4222", nats.Options{})
//
// # URLs
//
//	nats://host[:port]                          one server (port 4222 by default)
//	nats://user:password@host[:port]            user and password
//	nats://token@host[:port]                    a token
//	nats://host1:port,nats://host2:port         a cluster's seed servers
//	tls://host[:port]                           TLS required
//
// followed, once at the end of the whole string, by query parameters:
//
//	?creds=/path/user.creds                     a credentials file (JWT and NKey seed)
//	?nkey=/path/user.nk                         an NKey seed file
//	?tls_ca=/path/ca.pem                        a CA for the servers' certificates (implies TLS)
//	&tls_cert=/path/c.pem&tls_key=/path/k.pem   a client certificate (implies TLS)
//
// Options.CredsFile, Options.NKeySeedFile and Options.TLSConfig do the same
// from code and take precedence over the URL.
//
// # Subjects and channel names
//
// Every name starts with Options.Prefix (default "herald"), so several
// Herald clusters can share one NATS:
//
//	<p>.c.<t>       core subject: the channel's live publications, joins and leaves
//	<p>.control     core subject: control messages for every node
//	<p>.h.<t>       the channel's history, in the stream <p>_history
//	<p>.k.<t>       idempotency keys of channels without history, in the stream <p>_keys
//	<p>_presence    the presence bucket; key <t>.<client token>
//
// <t> is the channel's token. Herald channel names may hold characters a
// NATS subject token cannot ('.', '*', '>', non-ASCII...), so the name is
// encoded into one token: letters, digits, '-' and '_' stand for
// themselves and every other byte becomes '=' and two hex digits
// ("chat:room.1" is "chat=3Aroom=2E1"). The encoding is reversible, and
// valid in subjects and in KV keys; names made of plain characters stay
// as they are, readable in monitoring.
//
// A node subscribes to <p>.c.<t> once per channel, however many of its
// clients did, and to <p>.control once. All its subscriptions feed one Go
// channel read by one delivery goroutine, so a subscription costs no
// goroutine; that goroutine calls the EventHandler in the connection's
// order.
//
// # History, offsets and epochs
//
// All channels share one stream, <p>_history, with a subject per channel.
// One stream per channel would make offsets trivial (the stream's own
// sequence) but costs a stream, and in a JetStream cluster a Raft group,
// per channel: a real-time server has many short-lived channels, and
// creating a stream is a slow, cluster-wide operation. One stream also
// has one configuration, so each message carries its channel's settings
// in headers:
//
//	Herald-Offset   the channel offset: 1, 2, 3... within the epoch (0 for a position marker)
//	Herald-Epoch    the epoch that offset belongs to
//	Herald-Size     the channel's HistorySize when it was published
//	Herald-TTL      the channel's HistoryTTL in ms (0: none)
//	Herald-Window   the idempotency window in ms, with a key
//
// The channel's newest message (one direct get of the last message on its
// subject) is its position. Publish reads it and stores the publication
// with offset+1 and the header Nats-Expected-Last-Subject-Sequence set to
// that message's stream sequence: if another node stored one in between,
// JetStream refuses the publish, and the broker reads again and retries
// after a short random pause. Offsets are therefore exactly previous+1
// under concurrent publishes from any number of nodes, and offset and
// append are one atomic step. Publishes of one channel from one node are
// also serialized locally, so they never conflict with each other.
//
// The epoch is a random 8-character name stored with every message. A
// channel starts a new epoch (offset 1) when it has no message (never
// published, or the server lost its store) or when its newest message is
// older than its HistoryTTL: history is then lost, as the broker package
// requires. History of a channel without messages stores a position
// marker (offset 0, a new epoch, expiring after Options.EmptyStreamTTL),
// so that the epoch a subscriber is told holds when the first publication
// comes.
//
// HistorySize and HistoryTTL are applied by readers and a background
// trimmer, not by stream limits (which are stream-wide): a read ignores
// offsets older than the newest's offset-Size+1 and messages of another
// epoch, and every Size/4 publications the trimmer purges the subject
// down to Size messages (a new epoch purges the old epoch's). A channel
// nobody publishes to again keeps its last messages until
// Options.MaxHistoryAge, the stream's MaxAge, if set.
//
// History reads the position, then the range asked for with a
// short-lived consumer filtered on the channel's subject, deleted when
// done.
//
// # Idempotency
//
// An idempotency key becomes the message's Nats-Msg-Id (the channel token
// and the key), and JetStream's de-duplication within the stream's
// duplicate window (Options.IdempotencyWindow, default 2 min) makes it
// hold across nodes. A duplicate's acknowledgement names the first
// publication's stream sequence; the broker reads it and returns its
// offset and epoch with Duplicate set. A Publish may ask for a shorter
// window than the stream's: the first publication's Herald-Window says
// whether the key is still live, and when it is not, the publish goes
// ahead under a new message ID chained to the old one. If the first
// publication has already been trimmed from history, the duplicate is
// reported with a zero position. Keys of channels without history go to
// the <p>_keys stream, whose MaxAge is the window; their publication then
// goes out live.
//
// # Delivery without gaps
//
// After its stream sequence is acknowledged, a publication goes out on
// the channel's core subject with its offset, epoch and stream sequence.
// Core NATS is at-most-once; the stream is not. A node remembers, per
// subscribed channel, the epoch and offset it delivered last. A
// publication whose offset jumps ahead makes it read the missing ones
// from history first (from the stream sequence it stopped at); after a
// reconnect it catches every channel up with history the same way. When
// history no longer holds what was missed (trimmed, expired) or the
// channel started a new epoch, the broker calls the EventHandler's
// broker.StateLossHandler, if it has one, and goes on from where history
// now is. A node that crashes between storing a publication and sending
// it live leaves it in history: other nodes deliver it with the
// channel's next publication, or at their next reconnect.
//
// # Presence
//
// Presence lives in the bucket <p>_presence, one key per client and
// channel, with the bucket's TTL set to Options.PresenceTTL. The node
// that added an entry puts it again every third of the TTL until it is
// removed; a crashed node's entries disappear on their own within the
// TTL. Presence reads a channel's entries with one watcher on
// "<t>.*".
//
// # Failures
//
// The client reconnects by itself, forever, every 100 ms plus jitter, and
// pings the server every Options.Timeout, so a stalled server is given up
// on (and reconnected to) after about 3×Timeout. While it is not
// connected, Publish, History, presence, control, joins, leaves and
// Subscribe fail at once with an error wrapping broker.ErrUnavailable;
// when connected but the server does not answer, they fail after
// Options.Timeout (default 1 s) with the same error. No call reports success unless the server
// confirmed it (a JetStream acknowledgement, or a flush for core
// messages). Ping fails while the client is disconnected or JetStream
// does not answer. After a reconnect the broker creates the streams and
// the bucket again if the server lost them, then catches every channel
// up.
//
// # Lock order
//
// A channel's Subscribe lock, then the subscriber's map lock, then a
// channel's delivery lock (held while the EventHandler runs). The
// per-channel publish lock is taken alone. No lock but a channel's
// delivery lock is held across a network call (a catch-up reads history
// under it, which keeps that channel's order).
package nats
