package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// acmeCacheDirName is the directory under os.UserCacheDir that keeps the
// ACME account key and certificates when --acme-cache-dir is not set.
const acmeCacheDirName = "herald-acme"

// acmeManager returns the manager of the certificates of --acme-domains, or
// nil when ACME is off. It creates the cache directory (0700) and checks
// that it can write there, so that a bad directory shows at startup rather
// than at the first handshake. client, when not nil, is the HTTP client
// the ACME client talks to the CA with (tests use it to trust a test CA).
func acmeManager(c *Config, client *http.Client, log *slog.Logger) (*autocert.Manager, error) {
	domains := c.ACMEDomains.items()
	if len(domains) == 0 {
		return nil, nil
	}
	dir, err := acmeCacheDir(c.ACMECacheDir)
	if err != nil {
		return nil, err
	}
	if err := checkCacheDir(dir, log); err != nil {
		return nil, err
	}
	directory := c.ACMEDirectoryURL
	if directory == "" {
		directory = autocert.DefaultACMEDirectory
	}
	log.Info("ACME on: certificates come from the CA at the first TLS handshake for each name; clients must connect by name",
		"domains", strings.Join(domains, ","), "directory", directory, "cache_dir", dir, "http01_addr", c.ACMEHTTPAddr)
	return &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		Cache:      autocert.DirCache(dir),
		HostPolicy: ignorePort(autocert.HostWhitelist(domains...)),
		Email:      c.ACMEEmail,
		Client:     &acme.Client{DirectoryURL: directory, HTTPClient: client, UserAgent: "herald"},
	}, nil
}

// ignorePort makes policy accept host:port like host. autocert's HTTP-01
// handler checks the Host header as sent, which carries the port when the
// CA validates on another port than 80 (Pebble's default is 5002).
func ignorePort(policy autocert.HostPolicy) autocert.HostPolicy {
	return func(ctx context.Context, host string) error {
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		return policy(ctx, host)
	}
}

// acmeCacheDir returns dir, or herald-acme in the user's cache directory.
func acmeCacheDir(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no default ACME cache directory (%w): set --acme-cache-dir", err)
	}
	return filepath.Join(base, acmeCacheDirName), nil
}

// checkCacheDir creates dir (0700) if needed, checks that it is writable and
// warns when others may read it: it holds private keys.
func checkCacheDir(dir string, log *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("ACME cache directory: %w (choose another with --acme-cache-dir)", err)
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return fmt.Errorf("ACME cache directory %s is not writable: %w (choose another with --acme-cache-dir)", dir, err)
	}
	_ = f.Close()
	_ = os.Remove(f.Name())
	if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("the ACME cache directory holds private keys but others may read it; run chmod 700 on it",
			"cache_dir", dir, "mode", fi.Mode().Perm().String())
	}
	return nil
}

// acmeTLSConfig returns the server's TLS configuration with certificates
// from m: TLS 1.2 or later, HTTP/1.1 (WebSocket upgrades do not exist in
// HTTP/2) and acme-tls/1, the protocol of TLS-ALPN-01 challenges. When a
// certificate for one of the domains cannot be had, it logs what to check
// (the HTTP server logs every failed handshake too, but only with the
// error).
func acmeTLSConfig(m *autocert.Manager, c *Config, log *slog.Logger) *tls.Config {
	conf := m.TLSConfig()
	conf.MinVersion = tls.VersionTLS12
	conf.NextProtos = []string{"http/1.1", acme.ALPNProto}
	domains := map[string]bool{}
	for _, d := range c.ACMEDomains.items() {
		domains[strings.ToLower(d)] = true
	}
	conf.GetCertificate = func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		cert, err := m.GetCertificate(hello)
		if err != nil && domains[strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))] {
			log.Warn("cannot get a certificate from the ACME CA; check that it can reach this server on port 443 (or port 80 with --acme-http-addr) and that the name resolves here",
				"domain", hello.ServerName, "error", err)
		}
		return cert, err
	}
	return conf
}

// startACMEHTTP serves HTTP-01 challenges on --acme-http-addr, when it is
// set, and redirects every other GET and HEAD there to https:// on port
// 443.
func startACMEHTTP(m *autocert.Manager, c *Config, log *slog.Logger) (*http.Server, error) {
	if m == nil || c.ACMEHTTPAddr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", c.ACMEHTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("ACME HTTP-01 address: %w", err)
	}
	hs := &http.Server{
		Handler:           m.HTTPHandler(nil),
		ReadHeaderTimeout: readHeaderTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() { _ = hs.Serve(ln) }()
	log.Info("ACME HTTP-01 listening; other requests are redirected to https", "addr", ln.Addr().String())
	return hs, nil
}

// stopHTTP shuts hs down, if any, waiting at most httpShutdownTimeout.
func stopHTTP(hs *http.Server) {
	if hs == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), httpShutdownTimeout)
	defer cancel()
	_ = hs.Shutdown(ctx)
}

// validACMEDomains accepts a list of host names that an ACME CA can
// validate with TLS-ALPN-01 or HTTP-01: fully qualified, ASCII, no
// wildcards, ports or IP addresses.
func validACMEDomains(v string) error {
	for _, d := range stringList(v).items() {
		if err := validACMEDomain(d); err != nil {
			return fmt.Errorf("%q: %w", d, err)
		}
	}
	return nil
}

// validACMEDomain accepts one host name an ACME CA can issue a certificate
// for with the challenges herald answers: a fully qualified name, no
// wildcard, no IP address, no scheme or port.
func validACMEDomain(d string) error {
	switch {
	case strings.Contains(d, "*"):
		return errors.New("wildcard names need the DNS-01 challenge, which herald does not answer; list each name")
	case strings.ContainsAny(d, ":/"):
		return errors.New("want a host name alone, like rt.example.com, without scheme or port")
	case net.ParseIP(d) != nil:
		return errors.New("an IP address: ACME certificates here are for host names, like rt.example.com")
	case len(d) > 253:
		return errors.New("longer than 253 bytes")
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return errors.New("want a fully qualified name with a dot, like rt.example.com")
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return errors.New("not a valid host name (empty, too long or hyphen-edged label)")
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return errors.New("only letters, digits, hyphens and dots; write an internationalized name in its xn-- form")
			}
		}
	}
	return nil
}

// validACMEEmail accepts an empty value or a bare address, like
// ops@example.com.
func validACMEEmail(v string) error {
	if v == "" {
		return nil
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v {
		return errors.New("want a bare email address, like ops@example.com (no name, no mailto:)")
	}
	return nil
}

// validACMEDirectoryURL accepts an empty value (Let's Encrypt) or an https
// URL: ACME (RFC 8555) runs over HTTPS only.
func validACMEDirectoryURL(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return errors.New("want an https URL, like https://acme-staging-v02.api.letsencrypt.org/directory")
	}
	return nil
}

// optionalAddr accepts an empty value or host:port.
func optionalAddr(v string) error {
	if v == "" {
		return nil
	}
	return validAddr(v)
}

// checkACMECombinations checks the ACME settings against the others.
func (c *Config) checkACMECombinations() error {
	if c.ACMEDomains.items() != nil && (c.TLSCert != "" || c.TLSKey != "") {
		return errors.New("acme_domains and tls_cert/tls_key are two ways to get a certificate: set --acme-domains (certificates from an ACME CA such as Let's Encrypt) or --tls-cert and --tls-key (your own files), not both")
	}
	if c.ACMEDomains.items() == nil && (c.ACMEEmail != "" || c.ACMECacheDir != "" || c.ACMEDirectoryURL != "" || c.ACMEHTTPAddr != "") {
		return errors.New("acme_email, acme_cache_dir, acme_directory_url and acme_http_addr need acme_domains: set --acme-domains to the host names to get certificates for")
	}
	if _, port, _ := net.SplitHostPort(c.ACMEHTTPAddr); c.ACMEHTTPAddr == c.Addr && port != "0" {
		return errors.New("acme_http_addr must differ from addr: the HTTP-01 challenges are answered in plain HTTP, the server speaks HTTPS")
	}
	return nil
}
