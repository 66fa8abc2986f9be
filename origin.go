package herald

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// OriginPatterns returns a CheckOrigin for Config that guards against
// cross-site WebSocket hijacking. It accepts:
//
//   - requests without an Origin header: non-browser clients, which a
//     hostile page cannot use to ride on a user's cookies;
//   - same-origin requests (see SameOrigin);
//   - pages whose origin matches one of patterns.
//
// It refuses everything else, including "Origin: null" (sandboxed frames,
// file: pages, some redirects) and a request with more than one Origin
// header.
//
// A pattern is an exact origin, "https://app.example.com" or
// "http://localhost:3000": scheme (http or https), host and port compared
// exactly (case-insensitively; a missing port means the scheme's default).
// Or it is a wildcard, "https://*.example.com": "*" stands for one or more
// whole labels, so it matches https://a.example.com and
// https://a.b.example.com, but not https://example.com itself, nor another
// scheme or port, nor a look-alike such as https://example.com.evil.io or
// https://evilexample.com. A wildcard needs at least two labels after it
// ("https://*.com" is refused). A pattern with a path, a query, user
// information or any other "*" is an error.
func OriginPatterns(patterns ...string) (func(r *http.Request) bool, error) {
	parsed := make([]originPattern, 0, len(patterns))
	for _, p := range patterns {
		op, err := parseOriginPattern(p)
		if err != nil {
			return nil, fmt.Errorf("herald: origin pattern %q: %w", p, err)
		}
		parsed = append(parsed, op)
	}
	return func(r *http.Request) bool {
		values := r.Header.Values("Origin")
		switch {
		case len(values) == 0 || (len(values) == 1 && values[0] == ""):
			return true
		case len(values) > 1 || values[0] == "null":
			return false
		case SameOrigin(r):
			return true
		}
		o, err := parseOrigin(values[0], false)
		if err != nil {
			return false
		}
		for _, p := range parsed {
			if p.match(o) {
				return true
			}
		}
		return false
	}, nil
}

// origin is a parsed origin: lower-case scheme and host, and the port
// (the scheme's default when the origin gives none).
type origin struct {
	scheme, host, port string
}

// originPattern is an exact origin or, when wildcard is set, the origins
// whose host ends in "." + host.
type originPattern struct {
	origin
	wildcard bool
}

func (p originPattern) match(o origin) bool {
	if o.scheme != p.scheme || o.port != p.port {
		return false
	}
	if !p.wildcard {
		return o.host == p.host
	}
	if _, err := netip.ParseAddr(o.host); err == nil {
		return false // an IP address has no labels to stand for
	}
	return len(o.host) > len(p.host)+1 && strings.HasSuffix(o.host, "."+p.host)
}

func parseOriginPattern(s string) (originPattern, error) {
	s = strings.TrimSuffix(s, "/")
	wildcard := false
	if scheme, rest, ok := strings.Cut(s, "://*."); ok {
		wildcard = true
		s = scheme + "://" + rest
	}
	o, err := parseOrigin(s, true)
	if err != nil {
		return originPattern{}, err
	}
	if wildcard {
		if _, err := netip.ParseAddr(strings.Trim(o.host, "[]")); err == nil {
			return originPattern{}, errors.New("a wildcard cannot stand for part of an IP address")
		}
		if !strings.Contains(o.host, ".") {
			return originPattern{}, errors.New(`a wildcard needs at least two labels after it, like "https://*.example.com"`)
		}
	}
	return originPattern{origin: o, wildcard: wildcard}, nil
}

// parseOrigin parses "scheme://host[:port]" strictly: http or https, a host
// of letters, digits, '-', '_' and '.' (or an IP address), an optional port,
// and nothing else. forPattern only changes the error messages.
func parseOrigin(s string, forPattern bool) (origin, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	scheme = strings.ToLower(scheme)
	if !ok || (scheme != "http" && scheme != "https") {
		return origin{}, errors.New(`want scheme://host[:port] with scheme http or https, like "https://app.example.com"`)
	}
	if i := strings.IndexAny(rest, "/?#@\\"); i >= 0 {
		what := "a path, query or user information"
		if forPattern {
			what += "; an origin is only scheme://host[:port]"
		}
		return origin{}, errors.New("has " + what)
	}
	host, port := rest, ""
	if strings.HasPrefix(rest, "[") { // [IPv6]:port
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return origin{}, errors.New("unclosed '[' in the host")
		}
		host, port = rest[:end+1], rest[end+1:]
		if port != "" {
			if port[0] != ':' {
				return origin{}, errors.New("junk after the IPv6 address")
			}
			port = port[1:]
			if port == "" {
				return origin{}, errors.New("empty port")
			}
		}
		addr, err := netip.ParseAddr(host[1 : len(host)-1])
		if err != nil || !addr.Is6() {
			return origin{}, errors.New("bad IPv6 address")
		}
	} else {
		if h, p, found := strings.Cut(rest, ":"); found {
			host, port = h, p
			if port == "" {
				return origin{}, errors.New("empty port")
			}
		}
		if !validHostname(host) {
			return origin{}, fmt.Errorf("bad host %q", host)
		}
	}
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	} else {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] < '0' || port[0] > '9' {
			return origin{}, fmt.Errorf("bad port %q", port)
		}
		port = strconv.Itoa(n)
	}
	return origin{scheme: scheme, host: strings.ToLower(host), port: port}, nil
}

// validHostname reports whether host is non-empty dot-separated labels of
// ASCII letters, digits, '-' and '_', each 1 to 63 bytes.
func validHostname(host string) bool {
	if host == "" || len(host) > 253 {
		return false
	}
	for label := range strings.SplitSeq(host, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// LoopbackOrigins is a CheckOrigin for a server on a loopback address: it
// accepts what SameOrigin accepts and pages served from this machine
// (http or https on localhost, 127.0.0.0/8 or [::1], any port), so that a
// development page on another port can connect. Pages from anywhere else
// are refused.
func LoopbackOrigins(r *http.Request) bool {
	if SameOrigin(r) {
		return true
	}
	u, err := url.Parse(r.Header.Get("Origin"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
