package cli

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/auth"
)

// nodeConfig returns the herald.Config of c: each setting's part (its node
// function in settings), then what several settings decide together: the
// origin check, the channel-token rules, and the namespaces, which inherit
// the top-level permissions. log and reg are the node's logger and
// registry; v is the token verifier, nil in open mode.
func (c *Config) nodeConfig(log *slog.Logger, reg *prometheus.Registry, v *auth.Verifier) (herald.Config, error) {
	checkOrigin, err := c.checkOrigin()
	if err != nil {
		return herald.Config{}, err
	}
	n := herald.Config{
		Logger:               log,
		Registry:             reg,
		CheckOrigin:          checkOrigin,
		ChannelTokenVerifier: channelTokens(v),
		PrivateChannelPrefix: c.privateChannelPrefix(),
	}
	for _, s := range settings {
		if s.node != nil {
			s.node(c, &n)
		}
	}
	n.Namespaces = c.namespaces(n.Channels.Permissions)
	return n, nil
}

// namespaces converts the config file's namespaces to the node's; nil when
// none are configured (every channel then uses the top-level settings). A
// namespace's access left empty takes top's.
func (c *Config) namespaces(top herald.Permissions) map[string]herald.ChannelOptions {
	if c.Namespaces == nil {
		return nil
	}
	out := make(map[string]herald.ChannelOptions, len(c.Namespaces))
	for name, ns := range c.Namespaces {
		out[name] = ns.options(top)
	}
	return out
}

// access returns a top-level access setting: as set, or user with
// authentication and anyone in open mode (accessDefault).
func (c *Config) access(v string) herald.Access {
	if !c.openMode() {
		return accessOr(v, herald.AccessUser)
	}
	return accessOr(v, herald.AccessAnyone)
}

// accessOr returns v as an access level, or def when v is empty.
func accessOr(v string, def herald.Access) herald.Access {
	if v == "" {
		return def
	}
	return herald.Access(v)
}
