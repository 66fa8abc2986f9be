package herald

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

func TestClientAddr(t *testing.T) {
	lan := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	v6 := []netip.Prefix{netip.MustParsePrefix("fd00::/8")}
	one := []netip.Prefix{netip.MustParsePrefix("192.0.2.10/32")}
	for _, tc := range []struct {
		name    string
		trusted []netip.Prefix
		peer    string
		xff     []string // X-Forwarded-For header lines; nil sends none
		want    string   // clientAddr
		wantIP  string   // remoteIP of it: the per-address limits' key
	}{
		// Without trusted proxies, or from an untrusted peer, nobody's
		// header is believed.
		{"no trusted proxies", nil, "10.0.0.1:5000", []string{"203.0.113.7"}, "10.0.0.1:5000", "10.0.0.1"},
		{"peer untrusted", lan, "198.51.100.1:5000", []string{"203.0.113.7"}, "198.51.100.1:5000", "198.51.100.1"},
		{"peer untrusted, v6", v6, "[2001:db8::1]:5000", []string{"203.0.113.7"}, "[2001:db8::1]:5000", "2001:db8::1"},

		// A trusted peer vouches for the entry it appended.
		{"trusted peer", lan, "10.0.0.1:5000", []string{"203.0.113.7"}, "203.0.113.7", "203.0.113.7"},
		{"trusted single address", one, "192.0.2.10:5000", []string{"203.0.113.7"}, "203.0.113.7", "203.0.113.7"},
		{"trusted peer without header", lan, "10.0.0.1:5000", nil, "10.0.0.1:5000", "10.0.0.1"},
		{"trusted peer, empty header", lan, "10.0.0.1:5000", []string{""}, "10.0.0.1:5000", "10.0.0.1"},
		{"entry with a port", lan, "10.0.0.1:5000", []string{"203.0.113.7:6000"}, "203.0.113.7", "203.0.113.7"},
		{"empty elements skipped", lan, "10.0.0.1:5000", []string{" , 203.0.113.7 , ,"}, "203.0.113.7", "203.0.113.7"},

		// What the client wrote is left of what the proxies appended.
		{"spoofed left-most", lan, "10.0.0.1:5000", []string{"198.51.100.66, 203.0.113.7"}, "203.0.113.7", "203.0.113.7"},
		{"spoofed trusted left-most", lan, "10.0.0.1:5000", []string{"10.9.9.9, 203.0.113.7"}, "203.0.113.7", "203.0.113.7"},
		{"spoofed header line", lan, "10.0.0.1:5000", []string{"198.51.100.66", "203.0.113.7"}, "203.0.113.7", "203.0.113.7"},
		{"garbage left of the client", lan, "10.0.0.1:5000", []string{"<script>, 203.0.113.7"}, "203.0.113.7", "203.0.113.7"},

		// Chains of proxies: trusted hops are skipped.
		{"chain", lan, "10.0.0.1:5000", []string{"203.0.113.7, 10.0.0.2, 10.0.0.3"}, "203.0.113.7", "203.0.113.7"},
		{"chain with spoof", lan, "10.0.0.1:5000", []string{"198.51.100.66, 203.0.113.7, 10.0.0.2"}, "203.0.113.7", "203.0.113.7"},
		{"chain over header lines", lan, "10.0.0.1:5000", []string{"198.51.100.66, 203.0.113.7", "10.0.0.2"}, "203.0.113.7", "203.0.113.7"},
		{"untrusted hop in the chain", lan, "10.0.0.1:5000", []string{"203.0.113.7, 198.51.100.5, 10.0.0.2"}, "198.51.100.5", "198.51.100.5"},
		{"every entry trusted", lan, "10.0.0.1:5000", []string{"10.0.0.9, 10.0.0.2"}, "10.0.0.9", "10.0.0.9"},

		// IPv6 proxies and clients.
		{"v6 client", v6, "[fd00::1]:443", []string{"2001:db8::7"}, "2001:db8::7", "2001:db8::7"},
		{"v6 bracketed", v6, "[fd00::1]:443", []string{"[2001:db8::7]"}, "2001:db8::7", "2001:db8::7"},
		{"v6 with port", v6, "[fd00::1]:443", []string{"[2001:db8::7]:5555"}, "2001:db8::7", "2001:db8::7"},
		{"v6 chain with spoof", v6, "[fd00::1]:443", []string{"2001:db8::66, 2001:db8::7, fd00::2"}, "2001:db8::7", "2001:db8::7"},
		{"v4 client behind v6 proxy", v6, "[fd00::1]:443", []string{"203.0.113.7"}, "203.0.113.7", "203.0.113.7"},
		{"v4-mapped client", lan, "10.0.0.1:5000", []string{"::ffff:203.0.113.7"}, "203.0.113.7", "203.0.113.7"},
		{"v4-mapped peer", lan, "[::ffff:10.0.0.1]:5000", []string{"203.0.113.7"}, "203.0.113.7", "203.0.113.7"},

		// A malformed entry where the walk reaches it: the header is not
		// believed, the peer is the client.
		{"malformed", lan, "10.0.0.1:5000", []string{"garbage"}, "10.0.0.1:5000", "10.0.0.1"},
		{"malformed right-most", lan, "10.0.0.1:5000", []string{"203.0.113.7, garbage"}, "10.0.0.1:5000", "10.0.0.1"},
		{"malformed after a trusted hop", lan, "10.0.0.1:5000", []string{"garbage, 10.0.0.2"}, "10.0.0.1:5000", "10.0.0.1"},
		{"unknown", lan, "10.0.0.1:5000", []string{"unknown"}, "10.0.0.1:5000", "10.0.0.1"},
		{"host name", lan, "10.0.0.1:5000", []string{"client.example.com"}, "10.0.0.1:5000", "10.0.0.1"},
		{"prefix", lan, "10.0.0.1:5000", []string{"203.0.113.0/24"}, "10.0.0.1:5000", "10.0.0.1"},
		{"port out of range", lan, "10.0.0.1:5000", []string{"203.0.113.7:99999"}, "10.0.0.1:5000", "10.0.0.1"},
		{"bracketed v4", lan, "10.0.0.1:5000", []string{"[203.0.113.7]"}, "10.0.0.1:5000", "10.0.0.1"},
		{"zone", v6, "[fd00::1]:443", []string{"fe80::1%eth0"}, "[fd00::1]:443", "fd00::1"},
		{"unparsable peer", lan, "@", []string{"203.0.113.7"}, "@", "@"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			trusted, err := trustedPrefixes(tc.trusted)
			if err != nil {
				t.Fatal(err)
			}
			r := &http.Request{RemoteAddr: tc.peer, Header: http.Header{}}
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			got := clientAddr(r, trusted)
			if got != tc.want {
				t.Errorf("clientAddr = %q, want %q", got, tc.want)
			}
			if ip := remoteIP(got); ip != tc.wantIP {
				t.Errorf("remoteIP = %q, want %q", ip, tc.wantIP)
			}
		})
	}
}

func TestTrustedPrefixes(t *testing.T) {
	got, err := trustedPrefixes([]netip.Prefix{
		netip.MustParsePrefix("10.1.2.3/8"),
		netip.MustParsePrefix("::ffff:192.168.0.0/112"),
		netip.MustParsePrefix("2001:db8::1/32"),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.168.0.0/16", "2001:db8::/32"}
	for i, p := range got {
		if p.String() != want[i] {
			t.Errorf("prefix %d: %s, want %s", i, p, want[i])
		}
	}
	if _, err := trustedPrefixes([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), {}}); err == nil || !strings.Contains(err.Error(), "TrustedProxies[1]") {
		t.Errorf("invalid prefix: %v", err)
	}
}

// FuzzClientAddr: whatever X-Forwarded-For holds, the client is the peer or
// a well-formed address, and an untrusted peer's header is never read.
// headerHolds reports whether one of the comma-separated entries of xff,
// with or without brackets and a port, is a, an IPv4-mapped IPv6 entry
// counting as its IPv4 address.
func headerHolds(xff string, a netip.Addr) bool {
	for _, e := range strings.Split(xff, ",") {
		e = strings.TrimSpace(e)
		if ap, err := netip.ParseAddrPort(e); err == nil {
			e = ap.Addr().String()
		}
		e = strings.TrimSuffix(strings.TrimPrefix(e, "["), "]")
		if b, err := netip.ParseAddr(e); err == nil && b.Unmap() == a {
			return true
		}
	}
	return false
}

func FuzzClientAddr(f *testing.F) {
	for _, s := range []string{"203.0.113.7", "198.51.100.66, 203.0.113.7, 10.0.0.2", "[2001:db8::7]:443", "garbage, 10.0.0.2", " , ,", "fe80::1%eth0", "::ffff:10.0.0.9"} {
		f.Add(s)
	}
	trusted, _ := trustedPrefixes([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")})
	f.Fuzz(func(t *testing.T, xff string) {
		r := &http.Request{RemoteAddr: "10.0.0.1:5000", Header: http.Header{"X-Forwarded-For": {xff}}}
		got := clientAddr(r, trusted)
		if got != r.RemoteAddr {
			a, err := netip.ParseAddr(got)
			if err != nil || a.Zone() != "" || a.Is4In6() || !headerHolds(xff, a) {
				t.Fatalf("X-Forwarded-For %q gave %q", xff, got)
			}
		}
		r.RemoteAddr = "198.51.100.1:5000"
		if got := clientAddr(r, trusted); got != r.RemoteAddr {
			t.Fatalf("untrusted peer: X-Forwarded-For %q gave %q", xff, got)
		}
	})
}
