package cli

import (
	"fmt"
	"net/netip"
	"strings"
)

// validTrustedProxies accepts --trusted-proxies: CIDR prefixes and single
// addresses, comma-separated.
func validTrustedProxies(v string) error {
	_, err := parseTrustedProxies(stringList(v))
	return err
}

// trustedProxies returns herald.Config.TrustedProxies from the setting,
// which Load has already checked.
func (c *Config) trustedProxies() []netip.Prefix {
	prefixes, _ := parseTrustedProxies(c.TrustedProxies)
	return prefixes
}

// parseTrustedProxies parses a list of CIDR prefixes (10.0.0.0/8,
// fd00::/8) and single addresses (192.0.2.10, a /32 or /128). Host bits
// after the prefix length are ignored (10.1.2.3/8 is 10.0.0.0/8).
func parseTrustedProxies(l stringList) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range l.items() {
		if strings.Contains(item, "/") {
			p, err := netip.ParsePrefix(item)
			if err != nil {
				addr, _, _ := strings.Cut(item, "/")
				if a, err := netip.ParseAddr(addr); err == nil && a.Zone() == "" {
					version := 6
					if a.Is4() {
						version = 4
					}
					return nil, fmt.Errorf("%q is not a CIDR prefix: the length after the slash must be 0 to %d for an IPv%d address", item, a.BitLen(), version)
				}
				return nil, fmt.Errorf("%q is not a CIDR prefix: want an address, a slash and a length, like 10.0.0.0/8 or fd00::/8", item)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("%q is not an IP address or a CIDR prefix: want 192.0.2.10, 10.0.0.0/8 or fd00::/8 (no host names)", item)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
