package cli

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// openMode reports whether the server runs in open mode: no token key is
// configured and no backend authenticates connects (a connect proxy), so
// clients connect anonymously and may subscribe and publish.
func (c *Config) openMode() bool { return !c.authConfigured() && !c.proxyConnects() }

// checkOpenMode refuses to serve an open-mode node on addr unless addr is a
// loopback address or insecure is set: anyone who can reach a non-loopback
// address could then connect, subscribe and publish.
func checkOpenMode(addr string, insecure bool) error {
	if insecure || isLoopback(addr) {
		return nil
	}
	return fmt.Errorf("refusing to listen on %s in open mode: without authentication anyone who can reach this address "+
		"may connect, subscribe and publish. Listen on a loopback address (127.0.0.1:8080, [::1]:8080, localhost:8080), "+
		"or pass --insecure (HERALD_INSECURE=true) to accept that, or configure authentication (--token-secret, --token-public-key or --token-jwks-url)", addr)
}

// isLoopback reports whether addr (host:port) names only loopback
// interfaces: "localhost", an address in 127.0.0.0/8, or ::1. An empty host
// (":8080") listens on every interface and is not loopback; neither is any
// other host name, which could resolve to anything.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
