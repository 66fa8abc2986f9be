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
	server   *ws.Server

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
		Logger:           n.log,
	}, n.accept)
	if err != nil {
		n.writer.stop()
		_ = n.broker.Close(context.Background())
		n.cancel()
		return nil, fmt.Errorf("herald: start transport: %w", err)
	}
	n.server = srv
	return n, nil
}

// Name returns the node's name.
func (n *Node) Name() string { return n.cfg.Name }

// Handler returns the http.Handler of the WebSocket endpoint. Mount it on
// any mux, conventionally at /ws.
func (n *Node) Handler() http.Handler { return n.server }

// accept binds a new connection to a Session, unless the node is draining.
func (n *Node) accept(r *http.Request) (*ws.Admission, int, string) {
	if n.draining.Load() {
		return nil, http.StatusServiceUnavailable, "herald: node is shutting down; reconnect to another node"
	}
	remote := clientAddr(r, n.cfg.TrustedProxies)
	ip := remoteIP(remote)
	if status, msg := n.admit(ip); status != 0 {
		n.metrics.refusedUpgrades.WithLabelValues(strconv.Itoa(status)).Inc()
		return nil, status, msg
	}
	header := r.Header.Clone()
	return &ws.Admission{
		Bind: func(c *ws.Conn) ws.Peer {
			s := &Session{node: n, conn: c, id: randomID(8), remoteAddr: remote, header: header}
			n.accepted.Add(1)
			s.startConnectTimer()
			return (*transportPeer)(s)
		},
		Cancel: func() { n.release(ip) },
	}, 0, ""
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

// handlePublication encodes a publication the broker delivered once and
// hands the same bytes to every local subscriber.
func (n *Node) handlePublication(channel string, pub *broker.Publication, epoch string) {
	data := protocol.AppendPub(make([]byte, 0, 80+len(channel)+len(pub.Data)), channel, pub, epoch)
	subscribers := n.hub.broadcast(channel, data, pub.Offset)
	n.metrics.fannedOut(pub.Time, subscribers)
}

// Connections returns the number of open connections on this node,
// including those that have not sent connect yet.
func (n *Node) Connections() int { return int(n.accepted.Load()) }

// Shutdown stops the node gracefully: it refuses new connections, sends
// every client a `disconnect` with code 3000 (reconnect), spread over
// Config.ShutdownWindow or until ctx's deadline, waits for the connections
// to close, and then stops the transport and the broker. When ctx ends first,
// the remaining connections are dropped.
func (n *Node) Shutdown(ctx context.Context) error {
	var err error
	n.closeOnce.Do(func() { err = n.shutdown(ctx) })
	return err
}

func (n *Node) shutdown(ctx context.Context) error {
	n.draining.Store(true)
	n.sessionsMu.RLock()
	all := make([]*Session, 0, len(n.sessions))
	for _, s := range n.sessions {
		all = append(all, s)
	}
	n.sessionsMu.RUnlock()

	window := n.cfg.ShutdownWindow
	if dl, ok := ctx.Deadline(); ok {
		// Leave a third of the time for the closes to complete.
		if left := time.Until(dl) * 2 / 3; left < window {
			window = left
		}
	}
	n.log.Info("shutting down", "connections", len(all), "window", window)
	spreadClose(ctx, all, window)

	// Wait for the connections to go, including those that never connected.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for n.accepted.Load() > 0 {
		select {
		case <-ctx.Done():
			n.log.Warn("shutdown deadline passed; dropping connections", "left", n.accepted.Load())
			n.finish()
			return ctx.Err()
		case <-tick.C:
			n.sessionsMu.RLock()
			stragglers := len(n.sessions) == 0
			n.sessionsMu.RUnlock()
			if stragglers {
				// Only unconnected sockets remain: stop waiting for them.
				n.finish()
				return nil
			}
		}
	}
	n.finish()
	return nil
}

// spreadClose closes sessions with CloseShutdown, evenly over window.
func spreadClose(ctx context.Context, sessions []*Session, window time.Duration) {
	if len(sessions) == 0 {
		return
	}
	step := window / time.Duration(len(sessions))
	const minStep = time.Millisecond
	batch := 1
	if step < minStep && window > 0 {
		batch = int(minStep/max(step, 1)) + 1
		step = minStep
	}
	for i, s := range sessions {
		s.closeWith(protocol.CloseShutdown, "")
		if window > 0 && (i+1)%batch == 0 && i+1 < len(sessions) {
			select {
			case <-ctx.Done():
				for _, rest := range sessions[i+1:] {
					rest.closeWith(protocol.CloseShutdown, "")
				}
				return
			case <-time.After(step):
			}
		}
	}
}

func (n *Node) finish() {
	n.server.Stop()
	n.writer.stop()
	n.cancel()
	if err := n.broker.Close(context.Background()); err != nil {
		n.log.Error("close broker", "error", err)
	}
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
