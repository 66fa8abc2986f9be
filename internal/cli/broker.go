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
	"github.com/heraldrt/herald/broker/redis"
)

// brokerParams are the query parameters a --broker URL may carry, for the
// broker's options.
var brokerParams = []string{"prefix", "timeout", "presence_ttl", "position_check"}

// brokerSpec is a --broker URL taken apart: the broker's own URL, its
// options from the query, and the URL as logs may show it.
type brokerSpec struct {
	scheme   string
	url      string // without the query
	redacted string // without the password
	prefix   string
	timeout  time.Duration
	presence time.Duration
	check    time.Duration
}

// parseBroker checks a --broker URL without connecting: a scheme Herald
// knows and query parameters among brokerParams. The broker checks the
// rest when it starts.
func parseBroker(raw string) (brokerSpec, error) {
	scheme, _, ok := strings.Cut(raw, "://")
	if !ok {
		return brokerSpec{}, errors.New("want a URL like redis://127.0.0.1:6379/0")
	}
	spec := brokerSpec{scheme: strings.ToLower(scheme), url: raw}
	switch spec.scheme {
	case "redis", "rediss", "redis+sentinel", "rediss+sentinel":
	default:
		return brokerSpec{}, fmt.Errorf("unknown broker %q: want redis://, rediss://, redis+sentinel:// or rediss+sentinel://", scheme)
	}
	if base, query, hasQuery := strings.Cut(raw, "?"); hasQuery {
		spec.url = base
		values, err := url.ParseQuery(query)
		if err != nil {
			return brokerSpec{}, fmt.Errorf("bad query: %v", err)
		}
		for key, vs := range values {
			v := vs[len(vs)-1]
			var d time.Duration
			if key != "prefix" {
				if d, err = time.ParseDuration(v); err != nil || d <= 0 {
					return brokerSpec{}, fmt.Errorf("%s=%s: want a positive duration, like 2s", key, v)
				}
			}
			switch key {
			case "prefix":
				spec.prefix = v
			case "timeout":
				spec.timeout = d
			case "presence_ttl":
				spec.presence = d
			case "position_check":
				spec.check = d
			default:
				return brokerSpec{}, fmt.Errorf("unknown parameter %q (known: %s)", key, strings.Join(brokerParams, ", "))
			}
		}
	}
	spec.redacted = broker.RedactURL(spec.url)
	return spec, nil
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
	if !slices.Contains([]string{"redis", "rediss", "redis+sentinel", "rediss+sentinel"}, spec.scheme) {
		return nil, fmt.Errorf("unknown broker %q", spec.scheme)
	}
	b, err := redis.New(spec.url, redis.Options{
		Prefix: spec.prefix, Timeout: spec.timeout, PresenceTTL: spec.presence, PositionCheck: spec.check,
		Logger: log.With("component", "broker"),
	})
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
