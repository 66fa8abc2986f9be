package cli

import (
	"fmt"
	"time"
)

// Config holds the settings of `herald serve`. Each field is a flag, an
// environment variable and a key of the YAML config file, all defined by
// its entry in settings: a flag wins over the environment, the environment
// over the file, the file over Defaults. A field's yaml tag is its flag
// name in snake_case.
type Config struct {
	// Addr is the host:port to listen on.
	Addr string `yaml:"addr"`
	// APIKey is the key of the HTTP server API; empty leaves the API closed
	// (every call answers 401 saying how to set a key).
	APIKey string `yaml:"api_key"`
	// ConfigFile is the YAML file the settings were read from, if any. It
	// is not a key of the file itself.
	ConfigFile string `yaml:"-"`
	// Insecure allows open mode on a non-loopback address.
	Insecure bool `yaml:"insecure"`
	// TokenSecret is the HMAC secret of connection and channel tokens
	// (HS256, HS384, HS512); at least 32 bytes. Never logged.
	TokenSecret string `yaml:"token_secret"`
	// TokenPublicKey lists PEM files of the public keys (RSA, ECDSA,
	// Ed25519) that verify RS*, PS*, ES* and EdDSA tokens.
	TokenPublicKey stringList `yaml:"token_public_key"`
	// TokenJWKSURL is the URL of a JSON Web Key Set whose keys verify
	// tokens.
	TokenJWKSURL string `yaml:"token_jwks_url"`
	// TokenAudience, when set, must be among a token's aud.
	TokenAudience string `yaml:"token_audience"`
	// TokenIssuer, when set, must equal a token's iss.
	TokenIssuer string `yaml:"token_issuer"`
	// TokenLeeway is the clock skew allowed when checking exp and nbf.
	TokenLeeway time.Duration `yaml:"token_leeway"`
	// RefreshAhead is how long before a connection's token expires the
	// server asks the client for a new one (the `refresh` push); at most
	// half the token's remaining lifetime.
	RefreshAhead time.Duration `yaml:"refresh_ahead"`
	// Origins lists the browser origins, besides the server's own, whose
	// pages may connect: exact origins and https://*.example.com patterns.
	Origins stringList `yaml:"origins"`
	// TLSCert and TLSKey are the PEM files of the server's certificate
	// (with its chain) and private key; with both set, the server speaks
	// HTTPS and WSS.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// ACMEDomains lists the host names whose certificates the server gets
	// from an ACME CA (Let's Encrypt unless ACMEDirectoryURL names another);
	// with any, the server speaks HTTPS and WSS. It excludes TLSCert.
	ACMEDomains stringList `yaml:"acme_domains"`
	// ACMEEmail is the contact address given to the ACME CA.
	ACMEEmail string `yaml:"acme_email"`
	// ACMECacheDir keeps the ACME account key, the certificates and their
	// private keys; empty means herald-acme in os.UserCacheDir.
	ACMECacheDir string `yaml:"acme_cache_dir"`
	// ACMEDirectoryURL is the ACME CA's directory; empty means Let's
	// Encrypt's production one.
	ACMEDirectoryURL string `yaml:"acme_directory_url"`
	// ACMEHTTPAddr, when set, answers HTTP-01 challenges on this address
	// and redirects other requests to https.
	ACMEHTTPAddr string `yaml:"acme_http_addr"`
	// LogFormat is "text" or "json"; empty picks text when stderr is a
	// terminal and JSON otherwise.
	LogFormat string `yaml:"log_format"`
	// LogLevel is "debug", "info", "warn" or "error".
	LogLevel string `yaml:"log_level"`
	// Name is the node's name; empty picks the host name with a random
	// suffix.
	Name string `yaml:"name"`
	// Broker is the URL of the broker that joins this node to others
	// (redis://...); empty uses the embedded broker, one node alone.
	Broker string `yaml:"broker"`
	// AnnounceInterval is how often the node tells the other nodes about
	// itself through the broker.
	AnnounceInterval time.Duration `yaml:"announce_interval"`
	// PingInterval is how often the server pings each client.
	PingInterval time.Duration `yaml:"ping_interval"`
	// PongTimeout is how long a client has to answer a ping.
	PongTimeout time.Duration `yaml:"pong_timeout"`
	// MaxMessageSize bounds one client message, in bytes.
	MaxMessageSize int `yaml:"max_message_size"`
	// WebsocketCompression negotiates permessage-deflate with clients that
	// offer it, at WebsocketCompressionLevel (1 to 9).
	WebsocketCompression      bool `yaml:"websocket_compression"`
	WebsocketCompressionLevel int  `yaml:"websocket_compression_level"`
	// IOUring chooses the send path on Linux: auto, on or off.
	IOUring string `yaml:"io_uring"`
	// WriteQueueSize bounds, in bytes, what may wait to be written to one
	// connection before it is disconnected as a slow consumer.
	WriteQueueSize int `yaml:"write_queue_size"`
	// ShutdownWindow spreads the disconnects of a graceful shutdown.
	ShutdownWindow time.Duration `yaml:"shutdown_window"`
	// HistorySize is how many publications each channel keeps; 0 keeps
	// none.
	HistorySize int `yaml:"history_size"`
	// HistoryTTL is how long a channel's history is kept after its last
	// publication; 0 keeps it for as long as the broker does.
	HistoryTTL time.Duration `yaml:"history_ttl"`
	// Recover allows clients to recover missed publications on resubscribe.
	Recover bool `yaml:"recover"`
	// MaxRecover caps the publications one recovery returns; 0 means the
	// history size.
	MaxRecover int `yaml:"max_recover"`
	// Presence keeps who is subscribed to each channel.
	Presence bool `yaml:"presence"`
	// JoinLeave sends join and leave pushes to subscribers that ask.
	JoinLeave bool `yaml:"join_leave"`
	// IdempotencyWindow is how long publish keys are remembered.
	IdempotencyWindow time.Duration `yaml:"idempotency_window"`
	// PersonalChannel, when set, subscribes each user's connections to
	// PersonalChannel+user.
	PersonalChannel string `yaml:"personal_channel"`
	// PersistUserSubscriptions makes /api/subscribe apply to a user's later
	// connections too.
	PersistUserSubscriptions bool `yaml:"persist_user_subscriptions"`
	// DashboardPassword protects the live dashboard at /dashboard/ (the
	// API key is also accepted). Never logged.
	DashboardPassword string `yaml:"dashboard_password"`
	// AdminAddr, when set, serves /metrics, /healthz, /readyz (and pprof
	// with Pprof) on this address instead of the main one.
	AdminAddr string `yaml:"admin_addr"`
	// Pprof serves net/http/pprof at /debug/pprof/ on AdminAddr.
	Pprof bool `yaml:"pprof"`
	// MemoryTrimAfter: after a burst of allocation (a wave of connects),
	// once the server has allocated little for this long, run one garbage
	// collection and return free memory to the OS. 0 turns it off.
	MemoryTrimAfter time.Duration `yaml:"memory_trim_after"`
	// Limits; 0 leaves a limit off (or at the node's default, for the
	// command rate and channels per connection).
	MaxConnections           int           `yaml:"max_connections"`
	MaxConnectionsPerIP      int           `yaml:"max_connections_per_ip"`
	ConnectRatePerIP         int           `yaml:"connect_rate_per_ip"`
	MaxConnectionsPerUser    int           `yaml:"max_connections_per_user"`
	CommandRate              int           `yaml:"command_rate"`
	MaxChannelsPerConnection int           `yaml:"max_channels_per_connection"`
	MaxChannelLength         int           `yaml:"max_channel_length"`
	HandshakeTimeout         time.Duration `yaml:"handshake_timeout"`
	ConnectTimeout           time.Duration `yaml:"connect_timeout"`
	// TrustedProxies lists the load balancers and proxies in front of the
	// node (CIDR prefixes or single addresses, comma-separated); from them,
	// the client's address is read from X-Forwarded-For. Empty trusts no
	// header. See trustedProxies.
	TrustedProxies stringList `yaml:"trusted_proxies"`
	// SubscribeAccess, PublishAccess, PresenceAccess and HistoryAccess say
	// who may act on channels: anyone, user (authenticated), token (a
	// channel token) or none (only the server). Empty means user when
	// authentication is on, anyone in open mode.
	SubscribeAccess string `yaml:"subscribe_access"`
	PublishAccess   string `yaml:"publish_access"`
	PresenceAccess  string `yaml:"presence_access"`
	HistoryAccess   string `yaml:"history_access"`
	// Namespaces holds per-namespace channel settings (config file only).
	// With any namespace configured, channels in unlisted namespaces are
	// refused (error 102).
	Namespaces map[string]Namespace `yaml:"namespaces"`
	// ProxyURL sends every event (or those proxy.events lists) to the
	// application's backend at this URL plus /connect, /rpc... (proxy.go).
	ProxyURL string `yaml:"proxy_url"`
	// Proxy is the config file's proxy section (config file only).
	Proxy *ProxyConfig `yaml:"proxy"`
	// WebhookURL receives every webhook event, signed with WebhookSecret
	// (webhooks.go).
	WebhookURL    string `yaml:"webhook_url"`
	WebhookSecret string `yaml:"webhook_secret"`
	// WebhookPublications lists the namespaces whose publications are sent
	// as publication webhooks.
	WebhookPublications stringList `yaml:"webhook_publications"`
	// Webhooks lists more receivers (config file only).
	Webhooks []WebhookEndpoint `yaml:"webhooks"`
}

// Defaults returns the settings used when neither a flag, the environment
// nor a config file sets them: each setting's def in the settings table.
// The node-tuning values are those herald.Config documents for its zero
// values, spelled out so that `herald help` shows them.
func Defaults() Config {
	var c Config
	for _, s := range settings {
		if s.def == "" {
			continue
		}
		if err := s.set(&c, s.def); err != nil {
			panic(fmt.Sprintf("cli: the default of --%s, %q: %v", s.name, s.def, err))
		}
	}
	return c
}
