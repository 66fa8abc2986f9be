package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/heraldrt/herald"
)

// Config holds the settings of `herald serve`. Each field is a flag, an
// environment variable and a key of the YAML config file (see settings):
// a flag wins over the environment, the environment over the file, the
// file over Defaults.
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
}

// Namespace is the channel settings of one namespace in the config file.
type Namespace struct {
	HistorySize int           `yaml:"history_size"`
	HistoryTTL  time.Duration `yaml:"history_ttl"`
	Recover     *bool         `yaml:"recover"` // default true
	MaxRecover  int           `yaml:"max_recover"`
	Presence    bool          `yaml:"presence"`
	JoinLeave   bool          `yaml:"join_leave"`
	// Access per action (anyone, user, token, none); empty takes the
	// top-level setting.
	SubscribeAccess string `yaml:"subscribe_access"`
	PublishAccess   string `yaml:"publish_access"`
	PresenceAccess  string `yaml:"presence_access"`
	HistoryAccess   string `yaml:"history_access"`
}

// Defaults returns the settings used when neither a flag, the environment
// nor a config file sets them. The node-tuning values are those herald.Config
// documents for its zero values, spelled out so that `herald help` shows them.
func Defaults() Config {
	return Config{
		Addr:            "127.0.0.1:8080",
		LogLevel:        "info",
		RefreshAhead:    30 * time.Second,
		PingInterval:    25 * time.Second,
		PongTimeout:     10 * time.Second,
		MemoryTrimAfter: 2 * time.Second,
		MaxMessageSize:  64 << 10,
		WriteQueueSize:  1 << 20,
		// Level 1 is the fastest; compression itself is off by default.
		WebsocketCompressionLevel: 1,
		ShutdownWindow:            5 * time.Second,
		// History and recovery are on out of the box, so that a client
		// that reconnects gets what it missed; set history_size: 0 to turn
		// them off.
		HistorySize:              100,
		HistoryTTL:               5 * time.Minute,
		Recover:                  true,
		IdempotencyWindow:        2 * time.Minute,
		CommandRate:              100,
		MaxChannelsPerConnection: 128,
		MaxChannelLength:         255,
		HandshakeTimeout:         10 * time.Second,
		ConnectTimeout:           10 * time.Second,
	}
}

// setting describes one serve setting: its flag, environment variable and
// YAML key, which all derive from name.
type setting struct {
	name   string               // flag name, "ping-interval"
	arg    string               // placeholder in help, "DURATION"
	usage  string               // one line for help
	def    string               // default shown in help, when not the field's default value
	field  func(c *Config) any  // pointer to the field: *string, *bool, *int or *time.Duration
	valid  func(v string) error // extra check of a string value
	noYAML bool                 // not a key of the config file
	secret bool                 // never shown: errors say "(hidden)"
	list   bool                 // a repeated flag adds to the list
}

// env returns the setting's environment variable, HERALD_PING_INTERVAL.
func (s setting) env() string {
	return "HERALD_" + strings.ToUpper(strings.ReplaceAll(s.name, "-", "_"))
}

// key returns the setting's YAML key, ping_interval, or "" for none.
func (s setting) key() string {
	if s.noYAML {
		return ""
	}
	return strings.ReplaceAll(s.name, "-", "_")
}

// settings lists every serve setting, in the order help shows them.
var settings = []setting{
	{name: "addr", arg: "HOST:PORT", usage: "address to listen on",
		field: func(c *Config) any { return &c.Addr }, valid: validAddr},
	{name: "api-key", arg: "KEY", usage: "key of the HTTP API at /api/ (sent as X-API-Key or Authorization: Bearer); empty leaves the API closed (every call answers 401)",
		field: func(c *Config) any { return &c.APIKey }, secret: true},
	{name: "config", arg: "FILE", usage: "YAML config file with the keys shown here",
		field: func(c *Config) any { return &c.ConfigFile }, noYAML: true},
	{name: "insecure", usage: "allow open mode (anonymous clients) on a non-loopback address",
		field: func(c *Config) any { return &c.Insecure }},
	{name: "token-secret", arg: "SECRET", usage: "HMAC secret (at least 32 bytes) verifying HS256/384/512 tokens; prefer the environment variable, since flags show in ps",
		field: func(c *Config) any { return &c.TokenSecret }, valid: validSecret, secret: true},
	{name: "token-public-key", arg: "FILE", usage: "PEM file of a public key (RSA, ECDSA, Ed25519) verifying RS*, PS*, ES* and EdDSA tokens; repeat the flag or separate files with commas",
		field: func(c *Config) any { return &c.TokenPublicKey }, list: true},
	{name: "token-jwks-url", arg: "URL", usage: "JWKS URL whose keys verify tokens; fetched with a 10 s timeout, cached, refreshed hourly and on an unknown kid",
		field: func(c *Config) any { return &c.TokenJWKSURL }, valid: validJWKSURL},
	{name: "token-audience", arg: "AUD", usage: "when set, tokens must list it in aud",
		field: func(c *Config) any { return &c.TokenAudience }},
	{name: "token-issuer", arg: "ISS", usage: "when set, tokens must have it as iss",
		field: func(c *Config) any { return &c.TokenIssuer }},
	{name: "token-leeway", arg: "DURATION", usage: "clock skew allowed when checking a token's exp and nbf",
		field: func(c *Config) any { return &c.TokenLeeway }},
	{name: "refresh-ahead", arg: "DURATION", usage: "how long before a connection's token expires the server asks the client for a new one (at most half its remaining lifetime); unrefreshed connections close with 3005 at expiry",
		field: func(c *Config) any { return &c.RefreshAhead }},
	{name: "origins", arg: "LIST", usage: "browser origins allowed besides the server's own, comma-separated: https://app.example.com, https://*.example.com; others get 403",
		field: func(c *Config) any { return &c.Origins }, valid: validOrigins, list: true},
	{name: "tls-cert", arg: "FILE", usage: "PEM certificate chain; with --tls-key, serve HTTPS and WSS",
		field: func(c *Config) any { return &c.TLSCert }},
	{name: "tls-key", arg: "FILE", usage: "PEM private key of --tls-cert",
		field: func(c *Config) any { return &c.TLSKey }},
	{name: "acme-domains", arg: "LIST", usage: "host names, comma-separated, to get certificates for from an ACME CA (Let's Encrypt unless --acme-directory-url) and serve HTTPS and WSS with; excludes --tls-cert; the CA must reach this server on port 443, or on port 80 with --acme-http-addr",
		field: func(c *Config) any { return &c.ACMEDomains }, valid: validACMEDomains, list: true},
	{name: "acme-email", arg: "EMAIL", usage: "contact address given to the ACME CA, for notices about the certificates",
		field: func(c *Config) any { return &c.ACMEEmail }, valid: validACMEEmail},
	{name: "acme-cache-dir", arg: "DIR", usage: "directory (0700) keeping the ACME account key, the certificates and their private keys across restarts", def: "herald-acme in the user cache directory, like ~/.cache/herald-acme",
		field: func(c *Config) any { return &c.ACMECacheDir }},
	{name: "acme-directory-url", arg: "URL", usage: "ACME directory of the CA: Let's Encrypt staging (https://acme-staging-v02.api.letsencrypt.org/directory) for trials, or a private CA", def: "Let's Encrypt, https://acme-v02.api.letsencrypt.org/directory",
		field: func(c *Config) any { return &c.ACMEDirectoryURL }, valid: validACMEDirectoryURL},
	{name: "acme-http-addr", arg: "HOST:PORT", usage: "answer ACME HTTP-01 challenges here (the CA connects to port 80, so usually :80) and redirect other requests to https",
		field: func(c *Config) any { return &c.ACMEHTTPAddr }, valid: optionalAddr},
	{name: "log-format", arg: "text|json", usage: "log format", def: "text when stderr is a terminal, else json",
		field: func(c *Config) any { return &c.LogFormat }, valid: oneOf("text", "json")},
	{name: "log-level", arg: "LEVEL", usage: "lowest level logged: debug, info, warn or error",
		field: func(c *Config) any { return &c.LogLevel }, valid: oneOf("debug", "info", "warn", "error")},
	{name: "name", arg: "NAME", usage: "node name shown to clients and in logs", def: "host name with a random suffix",
		field: func(c *Config) any { return &c.Name }},
	{name: "ping-interval", arg: "DURATION", usage: "how often the server pings each client",
		field: func(c *Config) any { return &c.PingInterval }},
	{name: "pong-timeout", arg: "DURATION", usage: "how long a client has to answer a ping before it is closed (3001)",
		field: func(c *Config) any { return &c.PongTimeout }},
	{name: "max-message-size", arg: "BYTES", usage: "largest message a client may send; larger closes with 1009",
		field: func(c *Config) any { return &c.MaxMessageSize }},
	{name: "websocket-compression", usage: "negotiate permessage-deflate with clients that offer it (browsers do): less bandwidth for text-heavy traffic, one compression per message per connection; --max-message-size then applies after inflating",
		field: func(c *Config) any { return &c.WebsocketCompression }},
	{name: "websocket-compression-level", arg: "N", usage: "flate level of outgoing messages with --websocket-compression: 1 (fastest) to 9 (smallest)",
		field: func(c *Config) any { return &c.WebsocketCompressionLevel }, valid: validCompressionLevel},
	{name: "write-queue-size", arg: "BYTES", usage: "bytes that may wait for one slow client before it is disconnected (3002)",
		field: func(c *Config) any { return &c.WriteQueueSize }},
	{name: "shutdown-window", arg: "DURATION", usage: "on SIGINT or SIGTERM, spread client disconnects over this long",
		field: func(c *Config) any { return &c.ShutdownWindow }},
	{name: "history-size", arg: "N", usage: "publications each channel keeps for history and recovery; 0 keeps none",
		field: func(c *Config) any { return &c.HistorySize }},
	{name: "history-ttl", arg: "DURATION", usage: "how long a channel's history outlives its last publication; 0 is no limit",
		field: func(c *Config) any { return &c.HistoryTTL }},
	{name: "recover", usage: "let clients recover missed publications when they resubscribe (needs history)",
		field: func(c *Config) any { return &c.Recover }},
	{name: "max-recover", arg: "N", usage: "most publications one recovery returns; 0 means the history size",
		field: func(c *Config) any { return &c.MaxRecover }},
	{name: "presence", usage: "keep who is subscribed to each channel (presence command and API)",
		field: func(c *Config) any { return &c.Presence }},
	{name: "join-leave", usage: "send join and leave pushes to subscribers that ask (needs --presence)",
		field: func(c *Config) any { return &c.JoinLeave }},
	{name: "idempotency-window", arg: "DURATION", usage: "how long publish idempotency keys are remembered",
		field: func(c *Config) any { return &c.IdempotencyWindow }},
	{name: "personal-channel", arg: "PREFIX", usage: "subscribe each user's connections to PREFIX+user, like user:alice",
		field: func(c *Config) any { return &c.PersonalChannel }},
	{name: "persist-user-subscriptions", usage: "make /api/subscribe apply to a user's later connections too",
		field: func(c *Config) any { return &c.PersistUserSubscriptions }},
	{name: "max-connections", arg: "N", usage: "open connections this node accepts; past it the upgrade answers 503 (0: no limit)",
		field: func(c *Config) any { return &c.MaxConnections }},
	{name: "max-connections-per-ip", arg: "N", usage: "open connections from one address; past it the upgrade answers 429 (0: no limit)",
		field: func(c *Config) any { return &c.MaxConnectionsPerIP }},
	{name: "connect-rate-per-ip", arg: "N", usage: "new connections per second from one address, with bursts of N; past it the upgrade answers 429 (0: no limit)",
		field: func(c *Config) any { return &c.ConnectRatePerIP }},
	{name: "trusted-proxies", arg: "LIST", usage: "load balancers and proxies in front of herald, comma-separated CIDRs or addresses (10.0.0.0/8, 192.0.2.10); from them the client's address, for the per-address limits and logs, is the right-most X-Forwarded-For entry that is not one of them", def: "none, X-Forwarded-For is ignored",
		field: func(c *Config) any { return &c.TrustedProxies }, valid: validTrustedProxies, list: true},
	{name: "max-connections-per-user", arg: "N", usage: "connections of one user on this node; past it connect answers 106 and closes with 3502 (0: no limit)",
		field: func(c *Config) any { return &c.MaxConnectionsPerUser }},
	{name: "command-rate", arg: "N", usage: "commands per second from one connection, with bursts of 2N; past it commands are answered 110",
		field: func(c *Config) any { return &c.CommandRate }},
	{name: "max-channels-per-connection", arg: "N", usage: "subscriptions of one connection; past it subscribe answers 106",
		field: func(c *Config) any { return &c.MaxChannelsPerConnection }},
	{name: "max-channel-length", arg: "BYTES", usage: "longest channel name; longer ones are answered 107",
		field: func(c *Config) any { return &c.MaxChannelLength }},
	{name: "handshake-timeout", arg: "DURATION", usage: "time to send the HTTP request headers of the handshake (slow clients are cut off)",
		field: func(c *Config) any { return &c.HandshakeTimeout }},
	{name: "connect-timeout", arg: "DURATION", usage: "time to send connect after the handshake; past it the connection closes with 3006",
		field: func(c *Config) any { return &c.ConnectTimeout }},
	{name: "subscribe-access", arg: "ACCESS", usage: "who may subscribe: anyone, user (authenticated), token (a channel token) or none", def: "user with authentication, anyone in open mode",
		field: func(c *Config) any { return &c.SubscribeAccess }, valid: validAccess},
	{name: "publish-access", arg: "ACCESS", usage: "who may publish from a client: anyone, user, token (a subscription made with a channel token) or none (only the server)", def: "user with authentication, anyone in open mode",
		field: func(c *Config) any { return &c.PublishAccess }, valid: validAccess},
	{name: "presence-access", arg: "ACCESS", usage: "who may read presence: anyone, user, token or none", def: "user with authentication, anyone in open mode",
		field: func(c *Config) any { return &c.PresenceAccess }, valid: validAccess},
	{name: "history-access", arg: "ACCESS", usage: "who may read history: anyone, user, token or none", def: "user with authentication, anyone in open mode",
		field: func(c *Config) any { return &c.HistoryAccess }, valid: validAccess},
	{name: "dashboard-password", arg: "PASSWORD", usage: "password of the live dashboard at /dashboard/ (HTTP Basic, any user name; the API key also works)",
		field: func(c *Config) any { return &c.DashboardPassword }, secret: true},
	{name: "admin-addr", arg: "HOST:PORT", usage: "serve /metrics, /healthz and /readyz (and pprof with --pprof) here instead of on --addr",
		field: func(c *Config) any { return &c.AdminAddr }, valid: func(v string) error {
			if v == "" {
				return nil
			}
			return validAddr(v)
		}},
	{name: "pprof", usage: "serve Go's profiler at /debug/pprof/ on --admin-addr (never on the main address)",
		field: func(c *Config) any { return &c.Pprof }},
	{name: "memory-trim-after", arg: "DURATION", usage: "after a burst of allocation (a wave of connects), once the server has been quiet this long, collect garbage and return free memory to the OS; 0 turns it off",
		field: func(c *Config) any { return &c.MemoryTrimAfter }},
}

// fileOnlyKeys are the config file keys that have no flag or variable:
// structured settings (see Namespace).
var fileOnlyKeys = []string{"namespaces"}

func settingNamed(name string) (setting, bool) {
	for _, s := range settings {
		if s.name == name {
			return s, true
		}
	}
	return setting{}, false
}

// set parses v into the setting's field of c and checks it.
func (s setting) set(c *Config, v string) error {
	switch p := s.field(c).(type) {
	case *string:
		*p = v
	case *stringList:
		*p = stringList(v)
	case *bool:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("want true or false")
		}
		*p = b
	case *int:
		n, err := strconv.Atoi(v)
		if err != nil {
			return errors.New("want a whole number")
		}
		*p = n
	case *time.Duration:
		d, err := time.ParseDuration(v)
		if err != nil {
			return errors.New("want a duration with a unit, like 25s, 500ms or 1m30s")
		}
		*p = d
	default:
		panic(fmt.Sprintf("cli: setting %s has a field of unsupported type %T", s.name, p))
	}
	return s.check(c)
}

// check reports whether the setting's field of c holds a valid value.
func (s setting) check(c *Config) error {
	switch p := s.field(c).(type) {
	case *string:
		if s.valid != nil {
			return s.valid(*p)
		}
	case *stringList:
		if s.valid != nil {
			return s.valid(string(*p))
		}
	case *int:
		if s.valid != nil {
			return s.valid(strconv.Itoa(*p))
		}
		if *p < 0 {
			return errors.New("must not be negative")
		}
	case *time.Duration:
		if *p < 0 {
			return errors.New("must not be negative")
		}
	}
	return nil
}

// String returns the setting's value in c as a flag or variable would
// spell it.
func (s setting) String(c *Config) string {
	switch p := s.field(c).(type) {
	case *string:
		return *p
	case *stringList:
		return string(*p)
	case *bool:
		return strconv.FormatBool(*p)
	case *int:
		return strconv.Itoa(*p)
	case *time.Duration:
		return p.String()
	}
	return ""
}

// display returns v as errors may show it: secrets are hidden.
func (s setting) display(v string) string {
	if s.secret && v != "" {
		return "(hidden)"
	}
	return strconv.Quote(v)
}

func (s setting) isBool() bool {
	_, ok := s.field(&Config{}).(*bool)
	return ok
}

func validAddr(v string) error {
	if _, _, err := net.SplitHostPort(v); err != nil {
		return errors.New("want host:port, like 127.0.0.1:8080")
	}
	return nil
}

func validCompressionLevel(v string) error {
	if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 9 {
		return errors.New("want 1 (fastest) to 9 (smallest)")
	}
	return nil
}

// oneOf accepts the listed values and the empty string (the default).
func oneOf(values ...string) func(string) error {
	return func(v string) error {
		if v == "" || slices.Contains(values, v) {
			return nil
		}
		last := len(values) - 1
		return fmt.Errorf("want %s or %s", strings.Join(values[:last], ", "), values[last])
	}
}

// Validate checks every setting of c, naming the YAML key (or flag) of the
// first bad one.
func (c *Config) Validate() error {
	for _, s := range settings {
		if err := s.check(c); err != nil {
			name := s.key()
			if name == "" {
				name = "--" + s.name
			}
			return fmt.Errorf("%s %s: %w", name, s.display(s.String(c)), err)
		}
	}
	return nil
}

// ReadFile decodes the YAML config file at path over c: keys present in the
// file replace c's values, absent keys leave them. An unknown key is an
// error that names it; so is a bad value.
func ReadFile(path string, c *Config) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	if err := decodeYAML(f, c); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

func decodeYAML(r io.Reader, c *Config) error {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	next := *c
	err := dec.Decode(&next)
	if errors.Is(err, io.EOF) {
		return nil // an empty file sets nothing
	}
	if err != nil {
		return yamlError(err)
	}
	var more any
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return errors.New("holds more than one YAML document; put every key in one")
	}
	if err := next.Validate(); err != nil {
		return err
	}
	*c = next
	return nil
}

var (
	unknownField = regexp.MustCompile(`^(line \d+): field (.+) not found in type \S+$`)
	badDuration  = regexp.MustCompile(`^(line \d+): cannot unmarshal .* into time\.Duration$`)
	notMapping   = regexp.MustCompile(`^(line \d+): cannot unmarshal .* into cli\.Config$`)
)

// yamlError rewrites the decoder's messages about unknown keys, durations
// without a unit and files that are not a mapping into ones that say what to
// write instead.
func yamlError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		if g := unknownField.FindStringSubmatch(m); g != nil {
			m = fmt.Sprintf("%s: unknown key %q (known keys: %s)", g[1], g[2], strings.Join(yamlKeys(), ", "))
		} else if g := badDuration.FindStringSubmatch(m); g != nil {
			m = m + `: write a duration with a unit, like "25s" or "1m30s"`
		} else if g := notMapping.FindStringSubmatch(m); g != nil {
			m = g[1] + `: the file must hold keys with values, like "addr: 127.0.0.1:8080"`
		}
		msgs[i] = m
	}
	return errors.New(strings.Join(msgs, "; "))
}

func yamlKeys() []string {
	var keys []string
	for _, s := range settings {
		if k := s.key(); k != "" {
			keys = append(keys, k)
		}
	}
	return append(keys, fileOnlyKeys...)
}

// Load resolves the serve settings: Defaults, then the config file (from
// --config or HERALD_CONFIG), then the environment (looked up with
// lookupEnv; an empty variable counts as unset), then args, the serve flags.
// It returns flag.ErrHelp when args ask for help.
func Load(args []string, lookupEnv func(string) (string, bool)) (Config, error) {
	flags, err := parseFlags(args)
	if err != nil {
		return Config{}, err
	}
	return resolve(flags, lookupEnv)
}

// resolve layers Defaults, the config file, the environment and flags.
func resolve(flags []flagValue, lookupEnv func(string) (string, bool)) (Config, error) {
	c := Defaults()

	// The config file: its path comes from the flag or the environment.
	file := ""
	if v, ok := lookupEnv(settingsConfig.env()); ok && v != "" {
		file = v
	}
	for _, f := range flags {
		if f.s.name == settingsConfig.name {
			file = f.value
		}
	}
	if file != "" {
		if err := ReadFile(file, &c); err != nil {
			return Config{}, err
		}
		c.ConfigFile = file
	}

	for _, s := range settings {
		if s.name == settingsConfig.name {
			continue
		}
		v, ok := lookupEnv(s.env())
		if !ok || v == "" {
			continue
		}
		if err := s.set(&c, v); err != nil {
			return Config{}, fmt.Errorf("environment variable %s=%s: %w", s.env(), s.display(v), err)
		}
	}

	seen := map[string]bool{}
	for _, f := range flags {
		v := f.value
		if f.s.list && seen[f.s.name] {
			v = f.s.String(&c) + "," + v // a repeated list flag adds to the list
		}
		seen[f.s.name] = true
		if err := f.s.set(&c, v); err != nil {
			return Config{}, fmt.Errorf("flag --%s=%s: %w", f.s.name, f.s.display(f.value), err)
		}
	}
	return c, nil
}

var settingsConfig, _ = settingNamed("config")

// flagValue is one flag given on the command line, in order.
type flagValue struct {
	s     setting
	value string
}

// parseFlags parses the serve flags with the standard flag package, checking
// each value as it goes, and returns them in command-line order.
func parseFlags(args []string) ([]flagValue, error) {
	fs := newFlagSet("serve")
	got := addSettingFlags(fs, settings)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (serve takes only flags)", fs.Arg(0))
	}
	return *got, nil
}

// newFlagSet returns a silent FlagSet: Main prints errors and help itself.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// addSettingFlags defines a flag on fs for each of list and returns where
// the values given are recorded, in command-line order. A value is checked
// as it is parsed, except a secret's: the flag package would repeat it in
// its error, so Load checks it.
func addSettingFlags(fs *flag.FlagSet, list []setting) *[]flagValue {
	got := new([]flagValue)
	for _, s := range list {
		record := func(v string) error {
			if !s.secret {
				var scratch Config
				if err := s.set(&scratch, v); err != nil {
					return err
				}
			}
			*got = append(*got, flagValue{s, v})
			return nil
		}
		if s.isBool() {
			fs.BoolFunc(s.name, s.usage, record)
		} else {
			fs.Func(s.name, s.usage, record)
		}
	}
	return got
}

// namespaces converts the config file's namespaces to the node's; nil when
// none are configured (every channel then uses the top-level settings). A
// namespace's access left empty takes the top-level one.
func (c *Config) namespaces() map[string]herald.ChannelOptions {
	if c.Namespaces == nil {
		return nil
	}
	top := c.permissions()
	out := make(map[string]herald.ChannelOptions, len(c.Namespaces))
	for name, ns := range c.Namespaces {
		out[name] = herald.ChannelOptions{
			HistorySize: ns.HistorySize, HistoryTTL: ns.HistoryTTL,
			NoRecover:  ns.Recover != nil && !*ns.Recover,
			MaxRecover: ns.MaxRecover, Presence: ns.Presence, JoinLeave: ns.JoinLeave,
			Permissions: herald.Permissions{
				Subscribe: accessOr(ns.SubscribeAccess, top.Subscribe),
				Publish:   accessOr(ns.PublishAccess, top.Publish),
				Presence:  accessOr(ns.PresenceAccess, top.Presence),
				History:   accessOr(ns.HistoryAccess, top.History),
			},
		}
	}
	return out
}

// permissions returns the top-level permissions: as set, or user with
// authentication and anyone in open mode.
func (c *Config) permissions() herald.Permissions {
	def := herald.AccessAnyone
	if c.authConfigured() {
		def = herald.AccessUser
	}
	return herald.Permissions{
		Subscribe: accessOr(c.SubscribeAccess, def),
		Publish:   accessOr(c.PublishAccess, def),
		Presence:  accessOr(c.PresenceAccess, def),
		History:   accessOr(c.HistoryAccess, def),
	}
}

func accessOr(v string, def herald.Access) herald.Access {
	if v == "" {
		return def
	}
	return herald.Access(v)
}

// validAccess accepts the access levels of herald.Access.
var validAccess = oneOf("anyone", "user", "token", "none")
