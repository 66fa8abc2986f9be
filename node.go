package herald

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/broker/memory"
	"github.com/heraldrt/herald/protocol"
	hs "github.com/heraldrt/herald/transport/httpstream"
	ws "github.com/heraldrt/herald/transport/websocket"
)

// Node is one Herald server: it accepts WebSocket connections (Handler),
// runs the application's event handlers, and delivers publications through
// its broker. Create it with New; it is safe for concurrent use.
type Node struct {
	cfg      Config
	defaults ChannelOptions // top-level channel options
	log      *slog.Logger
	metrics  *metrics
	broker   *instrumentedBroker
	presence broker.PresenceStore // nil when the broker keeps no presence
	recent   recent
	hub      *hub
	writer   *writer
	wheel    wheel   // the sessions' heartbeat steps (heartbeat.go)
	cluster  cluster // the other nodes, as they announce themselves
	server   *ws.Server
	streams  *hs.Server // the fallback transports (fallback.go)

	handlersMu sync.Mutex
	handlers   atomic.Pointer[handlers]

	ipLimits ipLimiter

	sessionsMu sync.RWMutex
	sessions   map[string]*Session              // connected sessions by id
	users      map[string]map[*Session]struct{} // connected sessions by user

	userSubsMu sync.Mutex
	userSubs   map[string]map[string]struct{} // server-side subscriptions by user

	ctx       context.Context
	cancel    context.CancelFunc
	draining  atomic.Bool
	started   time.Time
	accepted  atomic.Int64 // sessions accepted and not yet closed
	closeOnce sync.Once
}

// New creates a Node and starts its broker and transport. Mount
// node.Handler() on an HTTP server to accept clients, and call Shutdown to
// stop.
func New(cfg Config) (*Node, error) {
	cfg.setDefaults()
	proxies, err := trustedPrefixes(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	cfg.TrustedProxies = proxies
	n := &Node{
		cfg:      cfg,
		defaults: normalized(cfg.Channels),
		log:      cfg.Logger.With("node", cfg.Name),
		sessions: make(map[string]*Session),
		users:    make(map[string]map[*Session]struct{}),
		userSubs: make(map[string]map[string]struct{}),
		started:  time.Now(),
	}
	n.handlers.Store(&handlers{rpc: map[string]RPCHandler{}})
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.metrics = newMetrics(n, cfg.Registry)
	b := cfg.Broker
	if b == nil {
		b = memory.New()
	}
	n.broker = &instrumentedBroker{b: b, m: n.metrics, onError: n.recent.error}
	if ps, ok := b.(broker.PresenceStore); ok {
		n.presence = &instrumentedPresence{ps: ps, ib: n.broker}
	}
	if err := n.broker.Start(n.ctx, (*brokerEvents)(n)); err != nil {
		n.cancel()
		return nil, fmt.Errorf("herald: start broker: %w", err)
	}
	n.hub = newHub(n.broker.Subscribe, n.broker.Unsubscribe)
	n.writer = newWriter(runtime.GOMAXPROCS(0))
	srv, err := ws.NewServer(ws.Config{
		MaxMessageSize:   cfg.MaxMessageSize,
		MaxPendingBytes:  cfg.WriteQueueSize,
		HandshakeTimeout: cfg.HandshakeTimeout,
		Compression:      cfg.Compression,
		CompressionLevel: cfg.CompressionLevel,
		CheckOrigin:      cfg.CheckOrigin,
		ClientAddr:       n.ClientAddr,
		Subprotocols:     protocol.Subprotocols,
		Logger:           n.log,
	}, n.accept)
	if err != nil {
		n.writer.stop()
		_ = n.broker.Close(context.Background())
		n.cancel()
		return nil, fmt.Errorf("herald: start transport: %w", err)
	}
	n.server = srv
	n.streams = n.newStreamServer()
	go n.announce()
	return n, nil
}

// Name returns the node's name.
func (n *Node) Name() string { return n.cfg.Name }

// Handler returns the http.Handler of the WebSocket endpoint. Mount it on
// any mux, conventionally at /ws.
func (n *Node) Handler() http.Handler { return n.server }

// accept binds a new connection to a Session, unless the node is draining.
func (n *Node) accept(r *http.Request) (*ws.Admission, int, string) {
	remote, status, msg := n.admitRequest(r)
	if status != 0 {
		return nil, status, msg
	}
	header := r.Header.Clone()
	return &ws.Admission{
		Bind: func(c *ws.Conn) ws.Peer {
			return (*transportPeer)(n.newSession(c, transportWebSocket, remote, header))
		},
		Cancel: func() { n.release(remoteIP(remote)) },
	}, 0, ""
}

// admitRequest applies the node's admission rules to a new connection of
// any transport: not while draining, and within the connection limits. It
// returns the client's address, or the HTTP status and message that refuse
// it. An admitted connection holds a slot until removeSession (or release).
func (n *Node) admitRequest(r *http.Request) (remote string, status int, msg string) {
	if n.draining.Load() {
		return "", http.StatusServiceUnavailable, "herald: node is shutting down; reconnect to another node"
	}
	remote = clientAddr(r, n.cfg.TrustedProxies)
	if status, msg := n.admit(remoteIP(remote)); status != 0 {
		n.metrics.refusedUpgrades.WithLabelValues(strconv.Itoa(status)).Inc()
		return "", status, msg
	}
	return remote, 0, ""
}

// newSession makes the Session of an admitted connection and starts its
// wait for connect.
func (n *Node) newSession(c transportConn, kind transportKind, remote string, header http.Header) *Session {
	s := &Session{node: n, conn: c, id: randomID(8), remoteAddr: remote, header: header, transport: kind, enc: encodingOf(c)}
	n.accepted.Add(1)
	n.metrics.transportConns.WithLabelValues(kind.String()).Inc()
	s.startConnectTimer()
	return s
}

func (n *Node) addSession(s *Session) {
	n.sessionsMu.Lock()
	n.sessions[s.id] = s
	if s.user != "" {
		set := n.users[s.user]
		if set == nil {
			set = make(map[*Session]struct{})
			n.users[s.user] = set
		}
		set[s] = struct{}{}
	}
	n.sessionsMu.Unlock()
}

func (n *Node) removeSession(s *Session) {
	n.accepted.Add(-1)
	n.metrics.transportConns.WithLabelValues(s.transport.String()).Dec()
	n.release(remoteIP(s.remoteAddr))
	n.sessionsMu.Lock()
	delete(n.sessions, s.id)
	if set := n.users[s.user]; set != nil {
		delete(set, s)
		if len(set) == 0 {
			delete(n.users, s.user)
		}
	}
	n.sessionsMu.Unlock()
}

// sessionsOf returns the connected sessions of a user, or the one with a
// client id.
func (n *Node) sessionsOf(user, client string) []*Session {
	n.sessionsMu.RLock()
	defer n.sessionsMu.RUnlock()
	var out []*Session
	if client != "" {
		if s := n.sessions[client]; s != nil && (user == "" || s.user == user) {
			out = append(out, s)
		}
		return out
	}
	for s := range n.users[user] {
		out = append(out, s)
	}
	return out
}

// MetricsHandler serves the node's Prometheus metrics (Config.Registry).
func (n *Node) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(n.cfg.Registry, promhttp.HandlerOpts{Registry: n.cfg.Registry})
}

// Ready reports whether the node should receive traffic: it is not
// shutting down and its broker answers. Use it for a readiness probe.
func (n *Node) Ready(ctx context.Context) error {
	if n.draining.Load() {
		return ErrNodeClosed
	}
	if err := n.broker.ping(ctx); err != nil {
		return fmt.Errorf("herald: broker unreachable: %w", err)
	}
	return nil
}
