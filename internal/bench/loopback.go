package bench

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// checkLoopback refuses any host:port whose host is not a loopback address
// (127.0.0.0/8 or ::1). Names are resolved, and every address they resolve
// to must be loopback.
func checkLoopback(hostport string) error {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = strings.Trim(hostport, "[]")
	}
	if host == "" {
		return errors.New("no host given: use 127.0.0.1")
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if !ip.Unmap().IsLoopback() {
			return fmt.Errorf("refusing non-loopback target %s: herald bench sends load only to 127.0.0.0/8 or ::1", host)
		}
		return nil
	}
	addrs, err := net.LookupHost(host)
	if err != nil || len(addrs) == 0 {
		return fmt.Errorf("cannot resolve %q: use a loopback address such as 127.0.0.1", host)
	}
	for _, a := range addrs {
		ip, err := netip.ParseAddr(a)
		if err != nil || !ip.Unmap().IsLoopback() {
			return fmt.Errorf("refusing %q: it resolves to non-loopback %s; herald bench sends load only to 127.0.0.0/8 or ::1", host, a)
		}
	}
	return nil
}

// isIPv4Loopback reports whether host is an IPv4 loopback literal or
// "localhost".
func isIPv4Loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().Is4() && ip.IsLoopback()
}

// parseSourceIPs reads "a-b" (an inclusive IPv4 range) or "a,b,c"; every
// address must be loopback. At most 256 addresses.
func parseSourceIPs(spec string) ([]string, error) {
	var out []string
	for part := range strings.SplitSeq(spec, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		from, err := netip.ParseAddr(lo)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address", lo)
		}
		to := from
		if isRange {
			if to, err = netip.ParseAddr(hi); err != nil {
				return nil, fmt.Errorf("%q is not an IP address", hi)
			}
		}
		if from.Is4() != to.Is4() || from.Compare(to) > 0 {
			return nil, fmt.Errorf("range %q is reversed or mixes address families", part)
		}
		for a := from; ; a = a.Next() {
			if !a.Unmap().IsLoopback() {
				return nil, fmt.Errorf("source address %s is not loopback", a)
			}
			if len(out) == 256 {
				return nil, errors.New("more than 256 source addresses")
			}
			out = append(out, a.String())
			if a == to {
				break
			}
		}
	}
	return out, nil
}

// portsPerSource is how many connections one source address can hold to one
// server: 90% of the kernel's ephemeral port range.
func portsPerSource() int {
	lo, hi := 32768, 60999
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		f := strings.Fields(string(b))
		if len(f) == 2 {
			a, e1 := strconv.Atoi(f[0])
			z, e2 := strconv.Atoi(f[1])
			if e1 == nil && e2 == nil && z > a {
				lo, hi = a, z
			}
		}
	}
	return (hi - lo + 1) * 9 / 10
}
