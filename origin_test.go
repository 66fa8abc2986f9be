package herald_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/heraldrt/herald"
)

func TestOriginPatterns(t *testing.T) {
	check, err := herald.OriginPatterns(
		"https://app.example.com",
		"http://localhost:3000",
		"https://*.example.org",
		"https://*.staging.example.net:8443",
		"http://[::1]:8080",
		"HTTPS://Upper.Example.COM/",
	)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		// Exact origins: scheme, host and port.
		{"https://app.example.com", true},
		{"https://app.example.com:443", true}, // the default port, spelled out
		{"https://APP.example.com", true},
		{"http://app.example.com", false},       // another scheme
		{"https://app.example.com:8443", false}, // another port
		{"https://example.com", false},
		{"https://x.app.example.com", false}, // exact means exact
		{"http://localhost:3000", true},
		{"http://localhost:3001", false},
		{"http://localhost", false},
		{"http://[::1]:8080", true},
		{"http://[::1]", false},
		{"https://upper.example.com", true},

		// Wildcards: one or more labels, same scheme and port.
		{"https://a.example.org", true},
		{"https://a.b.example.org", true},
		{"https://example.org", false}, // the wildcard needs a label
		{"http://a.example.org", false},
		{"https://a.example.org:444", false},
		{"https://a.staging.example.net:8443", true},
		{"https://a.staging.example.net", false},

		// Look-alikes.
		{"https://example.org.evil.io", false},
		{"https://a.example.org.evil.io", false},
		{"https://evilexample.org", false},
		{"https://evil-example.org", false},
		{"https://app.example.com.evil.io", false},
		{"https://app.example.com@evil.io", false},
		{"https://evil.io#.example.org", false},
		{"https://evil.io/.example.org", false},
		{"https://evil.io?.example.org", false},
		{"https://evil.io\\.example.org", false},
		{"https://a.example.org:443.evil.io", false},
		{"https://a.example.org%2e", false},
		{"https://a..example.org", false},
		{"https://.example.org", false},
		{"https://1.2.3.4.example.org", true}, // a host name, not an address

		// Not origins.
		{"null", false},
		{"app.example.com", false},
		{"wss://app.example.com", false},
		{"https://", false},
		{"https://app.example.com:", false},
		{"https://app.example.com:0", false},
		{"https://app.example.com:+443", false},
	} {
		r := httptest.NewRequest("GET", "http://herald.internal/ws", nil)
		r.Header.Set("Origin", tc.origin)
		if got := check(r); got != tc.ok {
			t.Errorf("Origin %q: allowed %v, want %v", tc.origin, got, tc.ok)
		}
	}
}

func TestOriginPatternsWithoutOriginSameOriginAndNull(t *testing.T) {
	check, err := herald.OriginPatterns("https://app.example.com")
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "http://herald.example.com/ws", nil)
	if !check(r) {
		t.Error("a request without Origin (a non-browser client) was refused")
	}
	r.Header.Set("Origin", "https://herald.example.com")
	if !check(r) {
		t.Error("a same-origin page was refused")
	}
	r.Header.Set("Origin", "null")
	if check(r) {
		t.Error(`"Origin: null" was allowed`)
	}
	r.Header["Origin"] = []string{"https://app.example.com", "https://evil.io"}
	if check(r) {
		t.Error("two Origin headers were allowed")
	}
	// No patterns: same origin only.
	sameOnly, err := herald.OriginPatterns()
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Origin", "https://app.example.com")
	if sameOnly(r) {
		t.Error("a cross-origin page was allowed without patterns")
	}
}

func TestOriginPatternsRefusesBadPatterns(t *testing.T) {
	for _, p := range []string{
		"",
		"app.example.com",
		"*.example.com",
		"ftp://example.com",
		"wss://example.com",
		"https://",
		"https://example.com/path",
		"https://example.com/?q",
		"https://user@example.com",
		"https://example.com:99999",
		"https://example.com:abc",
		"https://example.com:",
		"https://*.com",
		"https://*",
		"https://*.",
		"https://*example.com",
		"https://a.*.example.com",
		"https://*.*.example.com",
		"https://*.example.com:*",
		"https://ex ample.com",
		"https://[::1",
		"https://*.[::1]",
		"https://*.127.0.0.1",
		"http://*.localhost",
		"null",
	} {
		if _, err := herald.OriginPatterns("https://ok.example.com", p); err == nil {
			t.Errorf("pattern %q accepted", p)
		} else if !strings.Contains(err.Error(), "origin pattern") {
			t.Errorf("pattern %q: error %q does not say it is about an origin pattern", p, err)
		}
	}
}

func TestLoopbackOrigins(t *testing.T) {
	for origin, want := range map[string]bool{
		"":                           true,
		"http://127.0.0.1:8080":      true, // same origin
		"http://localhost:3000":      true,
		"https://127.0.0.2:5173":     true,
		"http://[::1]:4000":          true,
		"http://localhost.evil.io":   false,
		"http://127.0.0.1.evil.io":   false,
		"https://example.com":        false,
		"null":                       false,
		"file://localhost/page.html": false,
	} {
		r := httptest.NewRequest("GET", "http://127.0.0.1:8080/ws", nil)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		if got := herald.LoopbackOrigins(r); got != want {
			t.Errorf("Origin %q: %v, want %v", origin, got, want)
		}
	}
}
