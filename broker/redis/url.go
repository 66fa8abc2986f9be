package redis

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/heraldrt/herald/broker"
	"github.com/redis/rueidis"
)

// ErrInvalidURL is wrapped by every error New returns for a URL it cannot
// use; the message says which part is wrong and what the forms are.
var ErrInvalidURL = errors.New("redis: invalid URL")

// urlForms is appended to URL errors so that the fix is in the message.
const urlForms = "want redis://[[user]:password@]host:port[/db], rediss://... (TLS), " +
	"redis://host1:port,host2:port (Redis Cluster seeds) or " +
	"redis+sentinel://[:password@]host:port[,host:port]/mastername[/db]"

// parseURL turns a Redis URL into rueidis client options.
//
// Accepted forms:
//
//	redis://[[user]:password@]host[:port][/db]        one server
//	rediss://...                                      the same over TLS
//	redis://[:password@]host1:port,host2:port         Redis Cluster: its seed nodes
//	redis+sentinel://[:password@]host:port[,host:port]/mastername[/db]
//	rediss+sentinel://...                             Sentinel, master over TLS
//
// The port defaults to 6379 (26379 for Sentinel). One address may also name
// a Redis Cluster node: the client asks the server and switches to cluster
// mode by itself. The password of a Sentinel URL is the master's.
func parseURL(raw string) (rueidis.ClientOption, error) {
	var opt rueidis.ClientOption
	bad := func(format string, args ...any) (rueidis.ClientOption, error) {
		return rueidis.ClientOption{}, fmt.Errorf("%w %q: %s; %s", ErrInvalidURL, broker.RedactURL(raw), fmt.Sprintf(format, args...), urlForms)
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return bad("no scheme")
	}
	sentinel, useTLS := false, false
	switch strings.ToLower(scheme) {
	case "redis":
	case "rediss":
		useTLS = true
	case "redis+sentinel":
		sentinel = true
	case "rediss+sentinel":
		sentinel, useTLS = true, true
	default:
		return bad("unknown scheme %q", scheme)
	}
	if strings.ContainsAny(rest, "?#") {
		return bad("query parameters and fragments are not supported")
	}
	hostPart, path, _ := strings.Cut(rest, "/")
	if at := strings.LastIndex(hostPart, "@"); at >= 0 {
		user, pass, hasPass := strings.Cut(hostPart[:at], ":")
		if !hasPass {
			// redis://secret@host is a common slip for redis://:secret@host.
			user, pass = "", user
		}
		opt.Username, opt.Password = user, pass
		hostPart = hostPart[at+1:]
	}
	defaultPort := "6379"
	if sentinel {
		defaultPort = "26379"
	}
	for h := range strings.SplitSeq(hostPart, ",") {
		addr, err := hostPort(h, defaultPort)
		if err != nil {
			return bad("%v", err)
		}
		opt.InitAddress = append(opt.InitAddress, addr)
	}
	segs := []string{}
	if path != "" {
		segs = strings.Split(strings.TrimSuffix(path, "/"), "/")
	}
	if sentinel {
		if len(segs) == 0 || segs[0] == "" {
			return bad("a Sentinel URL needs the master's name as its path")
		}
		opt.Sentinel = rueidis.SentinelOption{MasterSet: segs[0]}
		segs = segs[1:]
	}
	switch len(segs) {
	case 0:
	case 1:
		db, err := strconv.Atoi(segs[0])
		if err != nil || db < 0 {
			return bad("database %q is not a number", segs[0])
		}
		if db != 0 && len(opt.InitAddress) > 1 && !sentinel {
			return bad("Redis Cluster has only database 0")
		}
		opt.SelectDB = db
	default:
		return bad("too many path segments in %q", path)
	}
	if useTLS {
		host, _, _ := net.SplitHostPort(opt.InitAddress[0])
		opt.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host}
	}
	return opt, nil
}

// hostPort checks one host[:port] and adds the default port.
func hostPort(h, defaultPort string) (string, error) {
	if h == "" {
		return "", errors.New("an address is empty")
	}
	host, port, err := net.SplitHostPort(h)
	if err != nil {
		// No port: the whole string is the host (brackets allowed for IPv6).
		host, port = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"), defaultPort
		if strings.Contains(host, ":") && net.ParseIP(host) == nil {
			return "", fmt.Errorf("address %q is not host:port", h)
		}
	}
	if host == "" {
		return "", fmt.Errorf("address %q has no host", h)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("address %q has no valid port", h)
	}
	return net.JoinHostPort(host, port), nil
}
