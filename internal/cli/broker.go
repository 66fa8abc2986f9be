package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/broker/nats"
	"github.com/heraldrt/herald/broker/redis"
)

// brokerParams are the query parameters of a --broker URL that set the
// broker's options, whatever the broker.
var brokerParams = []string{"prefix", "timeout", "presence_ttl", "position_check"}

// ownParams are the query parameters a broker reads from its URL itself,
// by scheme: they stay in the URL it gets.
var ownParams = map[string][]string{
	"nats": {"creds", "nkey", "tls_ca", "tls_cert", "tls_key"},
}

// brokerKinds maps the schemes of --broker to the broker that serves them.
var brokerKinds = map[string]string{
	"redis": "redis", "rediss": "redis", "redis+sentinel": "redis", "rediss+sentinel": "redis",
	"nats": "nats", "tls": "nats",
}

// brokerSpec is a --broker URL taken apart: the broker's own URL, its
// options from the query, and the URL as logs may show it.
type brokerSpec struct {
	kind     string // "redis" or "nats"
	url      string // what the broker gets: without Herald's parameters
	redacted string // without passwords or tokens
	prefix   string
	timeout  time.Duration
	presence time.Duration
	check    time.Duration
}

// parseBroker checks a --broker URL without connecting: a scheme Herald
// knows and query parameters it or the broker knows. The broker checks the
// rest when it starts.
func parseBroker(raw string) (brokerSpec, error) {
	scheme, _, ok := strings.Cut(raw, "://")
	if !ok {
		return brokerSpec{}, errors.New("want a URL like redis://127.0.0.1:6379/0 or nats://127.0.0.1:4222")
	}
	spec := brokerSpec{kind: brokerKinds[strings.ToLower(scheme)], url: raw}
	if spec.kind == "" {
		return brokerSpec{}, fmt.Errorf("unknown broker %q: want redis://, rediss://, redis+sentinel://, rediss+sentinel://, nats:// or tls:// (NATS over TLS)", scheme)
	}
	if base, query, hasQuery := strings.Cut(raw, "?"); hasQuery {
		values, err := url.ParseQuery(query)
		if err != nil {
			return brokerSpec{}, fmt.Errorf("bad query: %v", err)
		}
		own := url.Values{}
		for key, vs := range values {
			v := vs[len(vs)-1]
			if slices.Contains(ownParams[spec.kind], key) {
				own.Set(key, v)
				continue
			}
			if err := spec.setParam(key, v); err != nil {
				return brokerSpec{}, err
			}
		}
		spec.url = base
		if len(own) > 0 {
			spec.url += "?" + own.Encode()
		}
	}
	spec.redacted = broker.RedactURL(spec.url)
	return spec, nil
}

// setParam sets one of brokerParams.
func (spec *brokerSpec) setParam(key, v string) error {
	if !slices.Contains(brokerParams, key) {
		known := append(slices.Clone(brokerParams), ownParams[spec.kind]...)
		return fmt.Errorf("unknown parameter %q (known: %s)", key, strings.Join(known, ", "))
	}
	if key == "prefix" {
		spec.prefix = v
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return fmt.Errorf("%s=%s: want a positive duration, like 2s", key, v)
	}
	switch key {
	case "timeout":
		spec.timeout = d
	case "presence_ttl":
		spec.presence = d
	case "position_check":
		spec.check = d
	}
	return nil
}

func validBroker(v string) error {
	if v == "" {
		return nil
	}
	_, err := parseBroker(v)
	return err
}

// newBroker connects to the broker of a --broker URL. The node starts it.
func newBroker(spec brokerSpec, log *slog.Logger) (broker.Broker, error) {
	log = log.With("component", "broker")
	var b broker.Broker
	var err error
	switch spec.kind {
	case "redis":
		b, err = redis.New(spec.url, redis.Options{
			Prefix: spec.prefix, Timeout: spec.timeout, PresenceTTL: spec.presence, PositionCheck: spec.check, Logger: log,
		})
	case "nats":
		b, err = nats.New(spec.url, nats.Options{
			Prefix: spec.prefix, Timeout: spec.timeout, PresenceTTL: spec.presence, PositionCheck: spec.check, Logger: log,
		})
	default:
		err = fmt.Errorf("unknown broker %q", spec.kind)
	}
	if err != nil {
		return nil, fmt.Errorf("broker %s: %w", spec.redacted, err)
	}
	return b, nil
}

// broker returns the broker of --broker, or nil for the embedded one; it
// logs which, and warns once that nodes on the embedded broker are not
// joined.
func (c *Config) broker(log *slog.Logger) (broker.Broker, error) {
	if c.Broker == "" {
		log.Warn("no --broker: this node is not joined to any other; run several nodes behind a load balancer only with a shared broker (--broker redis://...), or their clients will not see each other's publications")
		return nil, nil
	}
	spec, err := parseBroker(c.Broker)
	if err != nil {
		return nil, err
	}
	b, err := newBroker(spec, log)
	if err != nil {
		return nil, err
	}
	log.Info("broker", "url", spec.redacted)
	return b, nil
}

// logCluster logs, once the nodes had time to announce themselves, which
// nodes this one is joined to. It returns early when ctx ends.
func logCluster(ctx context.Context, node *herald.Node, c *Config, log *slog.Logger) {
	if c.Broker == "" {
		return
	}
	select {
	case <-ctx.Done():
		return
	case <-time.After(2*c.AnnounceInterval + 500*time.Millisecond):
	}
	nodes := node.Nodes()
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name
	}
	log.Info("cluster joined", "nodes", len(nodes), "names", strings.Join(names, ","))
}
