package herald

import (
	"math"
	"net"
	"net/http"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"github.com/heraldrt/herald/protocol"
)

// Limits bound what one client, one address or the whole node may take.
// Each zero field means its documented default; a negative one turns the
// limit off.
type Limits struct {
	// MaxConnections caps this node's open connections (default: off).
	// Past it the upgrade answers HTTP 503 with Retry-After.
	MaxConnections int
	// MaxConnectionsPerIP caps the open connections from one address
	// (default: off, since many users may share one behind NAT). Past it
	// the upgrade answers HTTP 429.
	MaxConnectionsPerIP int
	// ConnectRatePerIP is how many new connections per second one address
	// may open, with bursts up to ConnectBurstPerIP (default: off). Past it
	// the upgrade answers HTTP 429 with Retry-After.
	ConnectRatePerIP  float64
	ConnectBurstPerIP int
	// MaxConnectionsPerUser caps one user's connections across the cluster
	// when the broker keeps presence (the embedded and Redis brokers do),
	// else on this node (default: off). Past it connect answers 106 and
	// closes with 3502.
	MaxConnectionsPerUser int
	// CommandRate is how many commands per second one connection may send
	// (pongs excluded), with bursts up to CommandBurst (default 100 per
	// second, bursts of 200). Past it commands are answered 110; a
	// connection that keeps sending past its limit is closed with 3004 (come
	// back later).
	CommandRate  float64
	CommandBurst int
	// MaxChannelsPerConnection caps one connection's subscriptions
	// (default 128). Past it subscribe answers 106.
	MaxChannelsPerConnection int
	// MaxChannelLength caps a channel name, in bytes (default 255). Longer
	// names, and names with control characters, spaces or invalid UTF-8,
	// are answered 107.
	MaxChannelLength int
}

func (l *Limits) setDefaults() {
	if l.CommandRate == 0 {
		l.CommandRate = 100
	}
	if l.CommandBurst == 0 {
		l.CommandBurst = 200
	}
	setDefault(&l.MaxChannelsPerConnection, 128)
	setDefault(&l.MaxChannelLength, 255)
	if l.ConnectRatePerIP > 0 && l.ConnectBurstPerIP <= 0 {
		l.ConnectBurstPerIP = max(1, int(l.ConnectRatePerIP))
	}
}

// floodCloseAfter is how many commands a connection may have refused for
// its rate within floodWindow before it is closed.
const (
	floodCloseAfter = 1000
	floodWindow     = time.Second
)

// checkChannel validates a channel name against the limits.
func (n *Node) checkChannel(channel string) error {
	if channel == "" {
		return protocol.NewError(protocol.CodeBadRequest, "channel name must not be empty")
	}
	if len(channel) > n.cfg.Limits.MaxChannelLength {
		return ErrChannelTooLong
	}
	if !utf8.ValidString(channel) {
		return ErrChannelInvalid
	}
	for _, r := range channel {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return ErrChannelInvalid
		}
	}
	return nil
}

// ipLimiter tracks connections and connection rates per remote address.
type ipLimiter struct {
	mu    sync.Mutex
	ips   map[string]*ipState
	sweep time.Time
}

type ipState struct {
	conns   int
	limiter *rate.Limiter
	seen    time.Time
}

// admit reserves a connection slot for a client at ip (see clientAddr and
// remoteIP), or returns the HTTP status and message that refuse it. release
// undoes a successful admit.
func (n *Node) admit(ip string) (status int, msg string) {
	l := &n.cfg.Limits
	if l.MaxConnections > 0 && int(n.accepted.Load()) >= l.MaxConnections {
		return http.StatusServiceUnavailable, "herald: this node is at its connection limit; retry later or on another node"
	}
	if l.MaxConnectionsPerIP <= 0 && l.ConnectRatePerIP <= 0 {
		return 0, ""
	}
	il := &n.ipLimits
	il.mu.Lock()
	defer il.mu.Unlock()
	now := time.Now()
	il.sweepLocked(now)
	st := il.ips[ip]
	if st == nil {
		st = &ipState{}
		if l.ConnectRatePerIP > 0 {
			st.limiter = rate.NewLimiter(rate.Limit(l.ConnectRatePerIP), l.ConnectBurstPerIP)
		}
		il.ips[ip] = st
	}
	st.seen = now
	if l.MaxConnectionsPerIP > 0 && st.conns >= l.MaxConnectionsPerIP {
		return http.StatusTooManyRequests, "herald: too many connections from your address"
	}
	if st.limiter != nil && !st.limiter.AllowN(now, 1) {
		return http.StatusTooManyRequests, "herald: connecting too fast from your address; retry in a second"
	}
	st.conns++
	return 0, ""
}

// release frees the slot admit reserved for ip.
func (n *Node) release(ip string) {
	il := &n.ipLimits
	il.mu.Lock()
	if st := il.ips[ip]; st != nil && st.conns > 0 {
		st.conns--
	}
	il.mu.Unlock()
}

// sweepLocked forgets, once a minute, addresses with no connection whose
// rate limiter has refilled.
func (il *ipLimiter) sweepLocked(now time.Time) {
	if il.ips == nil {
		il.ips = make(map[string]*ipState)
	}
	if now.Sub(il.sweep) < time.Minute {
		return
	}
	il.sweep = now
	for ip, st := range il.ips {
		if st.conns == 0 && now.Sub(st.seen) > time.Minute {
			delete(il.ips, ip)
		}
	}
}

// remoteIP returns the host part of a client address from clientAddr: of
// host:port, the host; of a bare address (one taken from X-Forwarded-For),
// the address itself. The per-address limits are keyed by it.
func remoteIP(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return host
}

// commandLimiter is the command rate of a connection that spent its first
// burst; most connections never need one, so a Session holds only a
// pointer.
type commandLimiter struct {
	rate         *rate.Limiter
	refused      int   // commands refused since refusedSince
	refusedSince int64 // Unix nanoseconds
}

// allowCommand applies the connection's command rate. It returns false to
// refuse the command; after floodCloseAfter refusals within floodWindow the
// connection is closed. Pongs are never limited.
func (s *Session) allowCommand(op string) bool {
	if op == protocol.OpPong {
		return true
	}
	l := &s.node.cfg.Limits
	if l.CommandRate < 0 {
		return true
	}
	// A fresh limiter lets a whole burst through, so the first burst of
	// commands needs none: most connections (a connect, a few subscribes)
	// never carry one. The limiter starts empty once the burst is spent.
	// Only this connection's goroutine gets here.
	if s.cmdLimiter == nil {
		if int(s.commands) < l.CommandBurst && s.commands < math.MaxInt32 {
			s.commands++
			return true
		}
		s.cmdLimiter = &commandLimiter{rate: rate.NewLimiter(rate.Limit(l.CommandRate), l.CommandBurst)}
		s.cmdLimiter.rate.AllowN(time.Now(), l.CommandBurst)
	}
	c := s.cmdLimiter
	now := time.Now()
	if c.rate.AllowN(now, 1) {
		return true
	}
	if now.UnixNano()-c.refusedSince > int64(floodWindow) {
		c.refusedSince, c.refused = now.UnixNano(), 0
	}
	c.refused++
	if c.refused >= floodCloseAfter {
		s.closeWith(protocol.CloseForceReconnect, "too many commands")
	}
	return false
}
