package nats

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/heraldrt/herald/broker"
)

// ErrInvalidURL is wrapped by every error New returns for a URL it cannot
// use; the message says which part is wrong and what the forms are.
var ErrInvalidURL = errors.New("nats: invalid URL")

// urlForms is appended to URL errors so that the fix is in the message.
const urlForms = "want nats://[user:password@|token@]host[:port][,nats://host:port...]" +
	"[?creds=FILE|nkey=FILE][&tls_ca=FILE][&tls_cert=FILE&tls_key=FILE], or tls://... for TLS"

// target is what a URL names: the servers (as nats.go takes them) and the
// settings its query carries.
type target struct {
	servers  string // comma-separated server URLs, without the query
	tls      bool   // a tls:// URL, or TLS files given
	creds    string
	nkey     string
	tlsCA    string
	tlsCert  string
	tlsKey   string
	redacted string
}

// parseURL checks a NATS URL.
//
// Accepted forms:
//
//	nats://host[:port]                              one server (port 4222 by default)
//	nats://user:password@host[:port]                user and password
//	nats://token@host[:port]                        a token
//	nats://host1:port,nats://host2:port             a cluster: its seed servers (any may carry credentials)
//	tls://host[:port]                               the same over TLS (TLS required)
//
// followed, once at the end of the whole string, by query parameters:
//
//	?creds=/path/user.creds                         a credentials file (JWT and NKey seed)
//	?nkey=/path/user.nk                             an NKey seed file
//	?tls_ca=/path/ca.pem                            CA to verify the servers with (implies TLS)
//	&tls_cert=/path/cert.pem&tls_key=/path/key.pem  a client certificate (implies TLS)
//
// A server given without a scheme ("host:4222") is taken as nats://.
func parseURL(raw string) (target, error) {
	t := target{redacted: broker.RedactURL(raw)}
	bad := func(format string, args ...any) (target, error) {
		return target{}, fmt.Errorf("%w %q: %s; %s", ErrInvalidURL, t.redacted, fmt.Sprintf(format, args...), urlForms)
	}
	list, query, _ := strings.Cut(strings.TrimSpace(raw), "?")
	if list == "" {
		return bad("no server")
	}
	if query != "" {
		q, err := url.ParseQuery(query)
		if err != nil {
			return bad("query: %v", err)
		}
		for k, v := range q {
			if len(v) != 1 || v[0] == "" {
				return bad("parameter %q needs one value", k)
			}
			switch k {
			case "creds":
				t.creds = v[0]
			case "nkey":
				t.nkey = v[0]
			case "tls_ca":
				t.tlsCA, t.tls = v[0], true
			case "tls_cert":
				t.tlsCert, t.tls = v[0], true
			case "tls_key":
				t.tlsKey, t.tls = v[0], true
			default:
				return bad("unknown parameter %q", k)
			}
		}
		if t.creds != "" && t.nkey != "" {
			return bad("creds and nkey both given: a credentials file holds its own key")
		}
		if (t.tlsCert == "") != (t.tlsKey == "") {
			return bad("tls_cert and tls_key go together")
		}
	}
	servers := make([]string, 0, 3)
	for s := range strings.SplitSeq(list, ",") {
		s = strings.TrimSpace(s)
		if !strings.Contains(s, "://") {
			s = "nats://" + s
		}
		u, err := url.Parse(s)
		if err != nil {
			return bad("%v", err)
		}
		switch strings.ToLower(u.Scheme) {
		case "nats":
		case "tls":
			t.tls = true
		default:
			return bad("unknown scheme %q", u.Scheme)
		}
		if u.Path != "" && u.Path != "/" {
			return bad("a NATS URL has no path (%q)", u.Path)
		}
		if u.Hostname() == "" {
			return bad("an address has no host")
		}
		if p := u.Port(); p != "" {
			if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
				return bad("port %q is not valid", p)
			}
		} else {
			u.Host = net.JoinHostPort(u.Hostname(), "4222")
		}
		u.Path = ""
		servers = append(servers, u.String())
	}
	t.servers = strings.Join(servers, ",")
	return t, nil
}
