package herald

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldrt/herald/broker"
)

// Config configures a Node. Every zero field means its documented default, so
// herald.Config{} is a working single-node setup.
type Config struct {
	// Name identifies the node to clients and in logs (default: the host
	// name with a random suffix).
	Name string
	// Broker carries publications between nodes and keeps history (default:
	// the embedded in-memory broker). The Node starts and closes it.
	Broker broker.Broker
	// Logger receives the node's structured logs (default: discard).
	Logger *slog.Logger
	// Registry receives the node's Prometheus metrics (default: a new
	// registry of the node's own). Node.MetricsHandler serves it.
	Registry *prometheus.Registry

	// PingInterval is how often the server pings each client (default 25 s).
	PingInterval time.Duration
	// PongTimeout is how long a client has to answer a ping (default 10 s);
	// a client that does not is closed with code 3001.
	PongTimeout time.Duration
	// ConnectTimeout is how long a new connection has to send connect
	// (default 10 s); one that does not is closed with code 3006.
	ConnectTimeout time.Duration
	// RefreshAhead is how long before a connection's credentials expire
	// the server sends the `refresh` push (default 30 s, at most half the
	// remaining lifetime).
	RefreshAhead time.Duration

	// MaxMessageSize bounds one client message, in bytes (default 64 KiB);
	// a larger one is refused with close code 1009 before it is buffered.
	MaxMessageSize int
	// MaxPublicationSize bounds the data of one publication, from a client
	// or from the server API, in bytes (default: MaxMessageSize). It must
	// stay well below WriteQueueSize, or one publication could overflow
	// every subscriber's queue.
	MaxPublicationSize int
	// WriteQueueSize bounds, in bytes, what may wait to be written to one
	// connection (default 1 MiB). A client that falls further behind is
	// disconnected as a slow consumer (code 3002).
	WriteQueueSize int
	// HandshakeTimeout bounds the WebSocket handshake (default 10 s).
	HandshakeTimeout time.Duration
	// Compression negotiates permessage-deflate (RFC 7692) with clients
	// that offer it; off by default. It trades CPU, one compression per
	// message per connection, for bandwidth on text-heavy traffic.
	// MaxMessageSize then bounds a client message after inflating, so a
	// deflate bomb is closed with 1009.
	Compression bool
	// CompressionLevel is the flate level of outgoing messages when
	// Compression is on: 1 (fastest, the default) to 9, or -2 for
	// Huffman-only.
	CompressionLevel int
	// IOUring chooses how frames reach the sockets on Linux: "auto" (the
	// default) submits each writer round's frames through io_uring in one
	// system call where the system allows it, and writes each with
	// write(2) where it does not (the choice is logged at start and shown
	// by the herald_send_path metric); "on" makes New fail without
	// io_uring; "off" always writes. Empty takes the HERALD_IO_URING
	// environment variable, else "auto".
	IOUring string

	// CheckOrigin decides whether a browser page from the request's Origin
	// may connect; false answers 403 before the upgrade. The default accepts
	// requests without an Origin header (non-browser clients) and same-origin
	// pages. See SameOrigin, OriginPatterns and LoopbackOrigins.
	CheckOrigin func(r *http.Request) bool

	// Limits bound connections, commands and channels; see Limits for the
	// defaults.
	Limits Limits
	// TrustedProxies lists the load balancers and reverse proxies in front
	// of the node, as prefixes (10.0.0.0/8; a single proxy is a /32 or
	// /128). When a connection's TCP peer is inside one of them, the
	// client's address is taken from X-Forwarded-For: the right-most entry
	// that is not itself a trusted proxy, never the left-most, which the
	// client may have written. That address is what the per-address
	// limits count and what Session.RemoteAddr and ConnectEvent.RemoteAddr
	// report (without a port). A header that is malformed where it matters
	// is not believed: the peer's address is used. Empty (the default)
	// trusts no header: the client is the TCP peer. New refuses invalid
	// prefixes.
	TrustedProxies []netip.Prefix

	// ShutdownWindow spreads the disconnects of Shutdown over this long so
	// that clients do not all reconnect at once (default 5 s).
	ShutdownWindow time.Duration

	// Channels holds the delivery settings (history, recovery, presence,
	// permissions) of channels without a namespace, and of every channel
	// when Namespaces is nil. The zero value keeps no history and lets
	// anyone act; see ChannelOptions.
	Channels ChannelOptions
	// ChannelTokenVerifier checks the channel tokens of AccessToken
	// namespaces; without one, such channels admit no client.
	ChannelTokenVerifier ChannelTokenVerifier
	// PrivateChannelPrefix, when set, makes every channel whose name starts
	// with it private ("$" is the convention: "$alice-inbox"): subscribing
	// needs a channel token checked by ChannelTokenVerifier, and publishing,
	// presence and history need a subscription made with one. The rule is
	// applied before the handlers and the permissions, which can only
	// refuse more; refusals answer error 103. Channels a connection is
	// subscribed to by the server (ConnectReply.Channels, Node.Subscribe)
	// are not checked. Empty (the default) makes no channel private.
	PrivateChannelPrefix string
	// Namespaces holds the settings of channels named "<namespace>:...".
	// When it is not nil, a channel in a namespace it does not list is
	// refused with error 102.
	Namespaces map[string]ChannelOptions

	// PersonalChannel, when set, subscribes every connection of an
	// authenticated user to PersonalChannel+user at connect ("user:" gives
	// "user:alice"), so the backend can reach all of a user's connections
	// with one publish.
	PersonalChannel string
	// PersistUserSubscriptions makes Node.Subscribe (and /api/subscribe)
	// apply to a user's later connections too, not only to those open at
	// the time. The list lives in each node's memory.
	PersistUserSubscriptions bool
	// AnnounceInterval is how often the node tells the other nodes of the
	// cluster about itself, through the broker, for Node.Nodes (default
	// 5 s). A node silent for three intervals is dropped from the others'
	// view.
	AnnounceInterval time.Duration
	// IdempotencyWindow is how long publish keys are remembered (default
	// 2 minutes).
	IdempotencyWindow time.Duration
}

func (c *Config) setDefaults() {
	if c.Name == "" {
		c.Name = defaultNodeName()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Registry == nil {
		c.Registry = prometheus.NewRegistry()
	}
	setDefault(&c.PingInterval, 25*time.Second)
	setDefault(&c.PongTimeout, 10*time.Second)
	setDefault(&c.ConnectTimeout, 10*time.Second)
	setDefault(&c.RefreshAhead, 30*time.Second)
	setDefault(&c.HandshakeTimeout, 10*time.Second)
	setDefault(&c.ShutdownWindow, 5*time.Second)
	setDefault(&c.IdempotencyWindow, 2*time.Minute)
	setDefault(&c.AnnounceInterval, 5*time.Second)
	setDefault(&c.MaxMessageSize, 64<<10)
	setDefault(&c.WriteQueueSize, 1<<20)
	setDefault(&c.MaxPublicationSize, c.MaxMessageSize)
	if c.MaxPublicationSize > c.WriteQueueSize/2 {
		c.MaxPublicationSize = c.WriteQueueSize / 2
	}
	c.Limits.setDefaults()
	if c.CheckOrigin == nil {
		c.CheckOrigin = SameOrigin
	}
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

func defaultNodeName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "herald"
	}
	return host + "-" + randomID(3)
}

// randomID returns 2n random hex characters.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// SameOrigin accepts requests without an Origin header (non-browser clients,
// which cross-site hijacking cannot use) and requests whose Origin's host
// equals the request's Host. It is the default CheckOrigin.
func SameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}
