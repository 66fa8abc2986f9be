package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/heraldrt/herald/internal/wstest"
)

// TestTrustedProxiesSetting: --trusted-proxies takes prefixes and
// addresses from a flag, a variable or the file, as herald.Config wants
// them.
func TestTrustedProxiesSetting(t *testing.T) {
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("192.0.2.10/32"),
		netip.MustParsePrefix("fd00::/8"),
		netip.MustParsePrefix("2001:db8::1/128"),
	}
	file := writeConfig(t, "trusted_proxies:\n  - 10.0.0.0/8\n  - 192.0.2.10\n  - fd00::/8\n  - 2001:db8::1\n")
	for name, load := range map[string]func() (Config, error){
		"flag": func() (Config, error) {
			return Load([]string{"--trusted-proxies", "10.0.0.0/8, 192.0.2.10", "--trusted-proxies", "fd00::/8,2001:db8::1"}, env(nil))
		},
		"env": func() (Config, error) {
			return Load(nil, env(map[string]string{"HERALD_TRUSTED_PROXIES": "10.0.0.0/8,192.0.2.10,fd00::/8,2001:db8::1"}))
		},
		"file": func() (Config, error) { return Load([]string{"--config", file}, env(nil)) },
		// Host bits past the length are dropped: 10.1.2.3/8 is 10.0.0.0/8.
		"host bits": func() (Config, error) {
			return Load([]string{"--trusted-proxies", "10.1.2.3/8,192.0.2.10/32,fd00::1/8,2001:db8::1"}, env(nil))
		},
	} {
		c, err := load()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := c.trustedProxies(); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	if d := Defaults(); d.trustedProxies() != nil {
		t.Errorf("default: %v, want none", d.trustedProxies())
	}
}

// TestTrustedProxiesRefusesBad: a value that is not a CIDR prefix or an
// address stops the server at startup, with an error naming the setting and
// the bad entry.
func TestTrustedProxiesRefusesBad(t *testing.T) {
	for _, bad := range []string{"10.0.0.0/33", "10.0.0/8", "10.0.0.0/", "proxy.example.com", "fe80::1%eth0", "10.0.0.0/8, nope", "::/129"} {
		item := bad
		if i := strings.LastIndexByte(bad, ','); i >= 0 {
			item = strings.TrimSpace(bad[i+1:])
		}
		_, err := Load([]string{"--trusted-proxies", bad}, env(nil))
		if err == nil || !strings.Contains(err.Error(), "trusted-proxies") || !strings.Contains(err.Error(), item) || !strings.Contains(err.Error(), "CIDR prefix") {
			t.Errorf("flag %q: %v", bad, err)
		}
		_, err = Load(nil, env(map[string]string{"HERALD_TRUSTED_PROXIES": bad}))
		if err == nil || !strings.Contains(err.Error(), "HERALD_TRUSTED_PROXIES") || !strings.Contains(err.Error(), item) {
			t.Errorf("env %q: %v", bad, err)
		}
		file := writeConfig(t, "trusted_proxies: \""+bad+"\"\n")
		_, err = Load([]string{"--config", file}, env(nil))
		if err == nil || !strings.Contains(err.Error(), "trusted_proxies") || !strings.Contains(err.Error(), item) {
			t.Errorf("file %q: %v", bad, err)
		}
		err = serve(context.Background(), []string{"--trusted-proxies", bad}, serveOptions{lookupEnv: env(nil), stderr: io.Discard})
		if ue := (usageError{}); !errors.As(err, &ue) {
			t.Errorf("serve %q: got %v, want a usage error", bad, err)
		}
	}
}

// TestServeTrustedProxies runs the serve path with --trusted-proxies: two
// clients behind the same proxy address (127.0.0.1) have separate per-address
// limits; a direct client (127.0.0.2) cannot dodge its own with the header;
// X-Real-IP and Forwarded are never read.
func TestServeTrustedProxies(t *testing.T) {
	r := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--trusted-proxies=127.0.0.1", "--max-connections-per-ip=1")
	url := "ws://" + r.addr + "/ws"
	dial := func(from, forwarded string) int {
		t.Helper()
		_, status, err := wstest.TryDial(t, url, from, http.Header{"X-Forwarded-For": {forwarded}})
		if err != nil && status == 0 {
			t.Fatalf("dial from %s for %s: %v", from, forwarded, err)
		}
		return status
	}
	for _, step := range []struct {
		from, forwarded string
		want            int
	}{
		{"127.0.0.1", "203.0.113.1", http.StatusSwitchingProtocols},
		{"127.0.0.1", "203.0.113.2", http.StatusSwitchingProtocols},
		{"127.0.0.1", "198.51.100.9, 203.0.113.1", http.StatusTooManyRequests},
		{"127.0.0.2", "203.0.113.3", http.StatusSwitchingProtocols},
		{"127.0.0.2", "203.0.113.4", http.StatusTooManyRequests},
	} {
		if got := dial(step.from, step.forwarded); got != step.want {
			t.Errorf("from %s, X-Forwarded-For %s: status %d, want %d", step.from, step.forwarded, got, step.want)
		}
	}
	// Only X-Forwarded-For is read: X-Real-IP and Forwarded leave the
	// client at the proxy's own address, whose limit the second one hits.
	for i, want := range []int{http.StatusSwitchingProtocols, http.StatusTooManyRequests} {
		h := http.Header{"X-Real-Ip": {fmt.Sprintf("203.0.113.%d", 50+i)}, "Forwarded": {fmt.Sprintf("for=203.0.113.%d", 60+i)}}
		if _, got, _ := wstest.TryDial(t, url, "127.0.0.1", h); got != want {
			t.Errorf("from 127.0.0.1 with X-Real-IP and Forwarded (%d): status %d, want %d", i, got, want)
		}
	}
}
