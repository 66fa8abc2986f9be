package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestServeACMEUsageErrors: ACME settings that cannot work together stop
// serve with a usage error that says what to change.
func TestServeACMEUsageErrors(t *testing.T) {
	d := []string{"--acme-domains", "rt.example.com"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{append(d, "--tls-cert", "c.pem", "--tls-key", "k.pem"), "not both"},
		{append(d, "--tls-cert", "c.pem"), "not both"},
		{[]string{"--acme-email", "ops@example.com"}, "need acme_domains"},
		{[]string{"--acme-http-addr", ":80"}, "need acme_domains"},
		{[]string{"--acme-directory-url", "https://ca.example.com/dir"}, "need acme_domains"},
		{[]string{"--acme-domains", "*.example.com"}, "wildcard"},
		{[]string{"--acme-domains", "https://rt.example.com"}, "without scheme or port"},
		{[]string{"--acme-domains", "rt.example.com:443"}, "without scheme or port"},
		{[]string{"--acme-domains", "rt.example.com,192.0.2.1"}, "IP address"},
		{[]string{"--acme-domains", "localhost"}, "fully qualified"},
		{[]string{"--acme-domains", "rt..example.com"}, "not a valid host name"},
		{[]string{"--acme-domains", "bücher.example"}, "xn--"},
		{append(d, "--acme-email", "Ops <ops@example.com>"), "bare email"},
		{append(d, "--acme-email", "mailto:ops@example.com"), "bare email"},
		{append(d, "--acme-directory-url", "http://127.0.0.1:14000/dir"), "https URL"},
		{append(d, "--acme-http-addr", "80"), "host:port"},
		{append(d, "--addr", "127.0.0.1:8443", "--acme-http-addr", "127.0.0.1:8443"), "must differ"},
	} {
		err := serve(context.Background(), tc.args, serveOptions{lookupEnv: env(nil), stderr: io.Discard,
			ready: func(net.Addr) { t.Errorf("%q: serve listened", tc.args) }})
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want a usage error mentioning %q", tc.args, err, tc.want)
		}
	}
}

// TestACMESettingsLayers sets the ACME settings from each layer: the
// environment, the config file (a YAML list of domains) and flags.
func TestACMESettingsLayers(t *testing.T) {
	c, err := Load(nil, env(map[string]string{
		"HERALD_ACME_DOMAINS":       "rt.example.com, ws.example.com",
		"HERALD_ACME_EMAIL":         "ops@example.com",
		"HERALD_ACME_CACHE_DIR":     "/var/lib/herald/acme",
		"HERALD_ACME_DIRECTORY_URL": "https://acme-staging-v02.api.letsencrypt.org/directory",
		"HERALD_ACME_HTTP_ADDR":     ":80",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.ACMEDomains.items(); !slices.Equal(got, []string{"rt.example.com", "ws.example.com"}) ||
		c.ACMEEmail != "ops@example.com" || c.ACMECacheDir != "/var/lib/herald/acme" ||
		c.ACMEDirectoryURL != "https://acme-staging-v02.api.letsencrypt.org/directory" || c.ACMEHTTPAddr != ":80" {
		t.Errorf("from the environment: %+v", c)
	}

	c, err = Load([]string{"--config", filepath.Join("testdata", "config", "acme.yaml"), "--acme-domains", "c.example.com"}, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.ACMEDomains.items(); !slices.Equal(got, []string{"c.example.com"}) || c.ACMEHTTPAddr != ":80" {
		t.Errorf("flag over file: domains %q, http addr %q", got, c.ACMEHTTPAddr)
	}

	_, err = Load(nil, env(map[string]string{"HERALD_ACME_DOMAINS": "*.example.com"}))
	if err == nil || !strings.Contains(err.Error(), "HERALD_ACME_DOMAINS") || !strings.Contains(err.Error(), "wildcard") {
		t.Errorf("a wildcard in the environment: %v", err)
	}
}

// TestACMETLSConfig: the TLS configuration of --acme-domains offers
// acme-tls/1 for the challenge besides http/1.1, with TLS 1.2 or later.
func TestACMETLSConfig(t *testing.T) {
	c := Defaults()
	c.ACMEDomains = "rt.example.com"
	c.ACMECacheDir = t.TempDir()
	log := slog.New(slog.DiscardHandler)
	conf, m, err := tlsConfig(&c, nil, log)
	if err != nil || m == nil || conf == nil {
		t.Fatalf("tlsConfig: %v, %v, %v", conf, m, err)
	}
	// HTTP/1.1 for WebSocket, acme-tls/1 for TLS-ALPN-01, never h2.
	if !slices.Equal(conf.NextProtos, []string{"http/1.1", "acme-tls/1"}) {
		t.Errorf("NextProtos %q", conf.NextProtos)
	}
	if conf.MinVersion != tls.VersionTLS12 || conf.GetCertificate == nil || conf.Certificates != nil {
		t.Errorf("MinVersion %x, GetCertificate set %v, Certificates %d", conf.MinVersion, conf.GetCertificate != nil, len(conf.Certificates))
	}
	if m.Client.DirectoryURL != "https://acme-v02.api.letsencrypt.org/directory" {
		t.Errorf("default directory %q, want Let's Encrypt production", m.Client.DirectoryURL)
	}
}

// TestACMECacheDir: the default is herald-acme in the user cache directory,
// created 0700; an existing directory that others may read draws a warning.
func TestACMECacheDir(t *testing.T) {
	base := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", base)
	dir, err := acmeCacheDir("")
	if err != nil || dir != filepath.Join(base, "herald-acme") {
		t.Fatalf("default cache dir %q, %v", dir, err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	if err := checkCacheDir(dir, log); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("cache dir %v, %v; want mode 0700", fi.Mode(), err)
	}
	if logs.String() != "" {
		t.Errorf("a 0700 directory drew a log: %s", logs)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("the write check left %d files", len(ents))
	}

	open := filepath.Join(base, "open")
	if err := os.Mkdir(open, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o755); err != nil { // whatever the umask
		t.Fatal(err)
	}
	if err := checkCacheDir(open, log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "chmod 700") {
		t.Errorf("a 0755 directory drew no warning: %s", logs)
	}

	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := checkCacheDir(file, log); err == nil || !strings.Contains(err.Error(), "--acme-cache-dir") {
		t.Errorf("a file as cache dir: %v", err)
	}
}

// TestServeACMEHTTP01Handler: with --acme-http-addr, autocert's HTTP-01
// handler answers there: challenge paths for the listed domains only, and
// a redirect to https for everything else. Without a CA to talk to
// (the directory URL points at a closed port), a handshake for a listed
// name fails and the logs say what to check; one for another name fails
// without that warning.
func TestServeACMEHTTP01Handler(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "acme")
	r := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--log-format=json",
		"--acme-domains=rt.herald.test", "--acme-http-addr=127.0.0.1:0", "--acme-cache-dir="+cache,
		"--acme-directory-url=https://127.0.0.1:1/directory")
	httpAddr := logAttr(t, r.logs, "ACME HTTP-01 listening", "addr")
	if fi, err := os.Stat(cache); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("cache dir: %v, %v; want mode 0700", fi, err)
	}

	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(host, path string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+httpAddr+path, nil)
		req.Host = host
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if resp := get("rt.herald.test", "/chat?room=1"); resp.StatusCode != http.StatusFound ||
		resp.Header.Get("Location") != "https://rt.herald.test/chat?room=1" {
		t.Errorf("plain request: %d to %q, want 302 to https://rt.herald.test/chat?room=1", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := get("rt.herald.test", "/.well-known/acme-challenge/unknown-token"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown challenge token: %d, want 404", resp.StatusCode)
	}
	if resp := get("rt.herald.test:5002", "/.well-known/acme-challenge/unknown-token"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown challenge token, Host with a port: %d, want 404", resp.StatusCode)
	}
	if resp := get("evil.example", "/.well-known/acme-challenge/unknown-token"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("challenge for a host not listed: %d, want 403", resp.StatusCode)
	}

	handshake := func(name string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		d := tls.Dialer{Config: &tls.Config{ServerName: name, InsecureSkipVerify: true}}
		c, err := d.DialContext(ctx, "tcp", r.addr)
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := handshake("evil.example"); err == nil {
		t.Error("a handshake for a name not listed succeeded")
	}
	if err := handshake(""); err == nil {
		t.Error("a handshake without a server name succeeded")
	}
	if strings.Contains(r.logs.String(), "cannot get a certificate") {
		t.Errorf("a name not listed drew the ACME warning:\n%s", r.logs)
	}
	if err := handshake("rt.herald.test"); err == nil {
		t.Error("a handshake succeeded without a CA")
	}
	if got := logAttr(t, r.logs, "cannot get a certificate from the ACME CA", "domain"); got != "rt.herald.test" {
		t.Errorf("failed issuance logged for %q", got)
	}
	http.DefaultClient.CloseIdleConnections()
	if err := r.stop(t); err != nil {
		t.Fatalf("serve returned %v", err)
	}
}

// logAttr returns the string attribute key of the first JSON log line whose
// message starts with msg, failing the test without one.
func logAttr(t *testing.T, logs *syncBuffer, msg, key string) string {
	t.Helper()
	for _, l := range logs.logLines(t) {
		if m, _ := l["msg"].(string); strings.HasPrefix(m, msg) {
			v, _ := l[key].(string)
			return v
		}
	}
	t.Fatalf("no log %q; logs:\n%s", msg, logs)
	return ""
}
