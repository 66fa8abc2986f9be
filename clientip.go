package herald

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// This file finds the address of the client behind a WebSocket request:
// the TCP peer's, or, when the peer is a trusted proxy, the one the proxies
// recorded in X-Forwarded-For. The per-address limits count by it and the
// session reports it (Session.RemoteAddr, ConnectEvent.RemoteAddr).

// forwardedFor is the header a trusted proxy appends its peer's address to.
// It is the only forwarding header read: Forwarded (RFC 7239) and
// X-Real-IP are ignored, since a proxy that manages one header passes the
// others through as the client wrote them.
const forwardedFor = "X-Forwarded-For"

// trustedPrefixes checks Config.TrustedProxies and returns a copy in the
// form clientAddr compares against: host bits masked, IPv4-mapped IPv6
// prefixes (::ffff:10.0.0.0/104) as IPv4 ones (10.0.0.0/8).
func trustedPrefixes(list []netip.Prefix) ([]netip.Prefix, error) {
	if len(list) == 0 {
		return nil, nil
	}
	out := make([]netip.Prefix, 0, len(list))
	for i, p := range list {
		if !p.IsValid() {
			return nil, fmt.Errorf("herald: Config.TrustedProxies[%d] is not a valid prefix; build it with netip.ParsePrefix(\"10.0.0.0/8\") or netip.PrefixFrom(addr, addr.BitLen())", i)
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// clientAddr returns the address of the client that sent r.
//
// Without trusted proxies, or when the TCP peer (r.RemoteAddr) is not in
// one of the trusted prefixes, it is r.RemoteAddr as is (host:port) and
// X-Forwarded-For is ignored: anyone can write that header.
//
// When the peer is trusted, X-Forwarded-For is read from the right (every
// X-Forwarded-For header line, in order, is one comma-separated list; empty
// elements are skipped). Each trusted proxy appends the address it received
// the request from, so the entries are walked right to left, skipping those
// that are themselves trusted, and the first untrusted one is the client:
// entries further left were written by the client or by proxies nobody
// vouches for, and are never used. The result is that address alone, with
// no port. Then:
//
//   - an entry is an IPv4 or IPv6 address, optionally bracketed or with a
//     port (1.2.3.4:5678, [2001:db8::1]:443); an IPv4-mapped IPv6 address
//     counts as its IPv4 address. Anything else (a host name, "unknown", an
//     address with a zone, garbage) ends the walk, and the result is
//     r.RemoteAddr: a header the trusted proxies cannot have written is not
//     believed;
//   - no entry at all (no header, or only empty ones) gives r.RemoteAddr;
//   - every entry trusted gives the left-most one (a client inside the
//     trusted network itself).
func clientAddr(r *http.Request, trusted []netip.Prefix) string {
	if len(trusted) == 0 {
		return r.RemoteAddr
	}
	peer, ok := parsePeer(r.RemoteAddr)
	if !ok || !isTrusted(peer, trusted) {
		return r.RemoteAddr
	}
	values := r.Header.Values(forwardedFor)
	var last netip.Addr // the left-most trusted entry seen so far
	for i := len(values) - 1; i >= 0; i-- {
		list := values[i]
		for list != "" {
			entry := list
			if j := strings.LastIndexByte(list, ','); j >= 0 {
				entry, list = list[j+1:], list[:j]
			} else {
				list = ""
			}
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			a, ok := parseForwarded(entry)
			if !ok {
				return r.RemoteAddr
			}
			if !isTrusted(a, trusted) {
				return a.String()
			}
			last = a
		}
	}
	if last.IsValid() {
		return last.String()
	}
	return r.RemoteAddr
}

// parsePeer parses a RemoteAddr (host:port, or a bare address). The zone of
// a link-local peer is dropped, so that fe80::/10 can be trusted.
func parsePeer(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// parseForwarded parses one X-Forwarded-For entry: 1.2.3.4, 2001:db8::1,
// [2001:db8::1], or any of them with a port. Zones are refused.
func parseForwarded(s string) (netip.Addr, bool) {
	var a netip.Addr
	if ap, err := netip.ParseAddrPort(s); err == nil {
		a = ap.Addr()
	} else if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err = netip.ParseAddr(s[1 : len(s)-1]); err != nil || !a.Is6() {
			return netip.Addr{}, false
		}
	} else if a, err = netip.ParseAddr(s); err != nil {
		return netip.Addr{}, false
	}
	if a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// isTrusted reports whether a is inside one of the trusted prefixes.
func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientAddr returns the address of the client that sent r, as the node's
// per-address limits see it: r.RemoteAddr, or behind a proxy listed in
// Config.TrustedProxies the client's address from X-Forwarded-For (without
// a port). Handlers mounted beside the node (the HTTP API, the dashboard)
// use it so that their logs name the same client the node does.
func (n *Node) ClientAddr(r *http.Request) string {
	return clientAddr(r, n.cfg.TrustedProxies)
}
