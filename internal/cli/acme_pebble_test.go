package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"
	"github.com/miekg/dns"
)

// These tests get real certificates from Pebble, Let's Encrypt's ACME test
// server, run in-process from its Go packages. Its validation authority
// validates for real: it resolves every name to 127.0.0.1 through a stub
// DNS server and connects to the ports it is given, so the challenges are
// answered by herald's own listeners. Nothing leaves the machine and no
// privileged port is bound.

// acmeTestDomain is the name the ACME tests get certificates for; the stub
// DNS points it at 127.0.0.1.
const acmeTestDomain = "rt.herald.test"

// pebbleCA is a running Pebble.
type pebbleCA struct {
	directory string         // ACME directory URL
	client    *http.Client   // trusts the directory's TLS certificate
	roots     *x509.CertPool // the root of the certificates Pebble issues
	logs      *syncBuffer
	store     *db.MemoryStore
}

// validatedBy returns the types of the challenges that validated the
// order of cert.
func (p *pebbleCA) validatedBy(t *testing.T, cert *x509.Certificate) []string {
	t.Helper()
	issued := p.store.GetCertificateBySerial(cert.SerialNumber)
	if issued == nil {
		t.Fatalf("Pebble did not issue serial %v", cert.SerialNumber)
	}
	order, err := p.store.GetOrderByIssuedSerial(issued.ID)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, z := range order.AuthorizationObjects {
		z.RLock()
		for _, ch := range z.Challenges {
			ch.RLock()
			if ch.Status == "valid" {
				types = append(types, ch.Type)
			}
			ch.RUnlock()
		}
		z.RUnlock()
	}
	return types
}

// startPebble runs Pebble behind an httptest TLS server. Its validation
// authority connects to httpPort for HTTP-01 and tlsPort for TLS-ALPN-01.
func startPebble(t *testing.T, httpPort, tlsPort int) *pebbleCA {
	t.Helper()
	t.Setenv("PEBBLE_VA_NOSLEEP", "1")      // validate at once
	t.Setenv("PEBBLE_WFE_NONCEREJECT", "0") // no random bad-nonce errors
	t.Setenv("PEBBLE_AUTHZREUSE", "0")      // each order is validated
	logs := &syncBuffer{}
	logger := log.New(logs, "pebble ", log.Lmicroseconds)
	store := db.NewMemoryStore()
	authority := ca.New(logger, store, "", "ecdsa", 0, 1, map[string]ca.Profile{"default": {Description: "default"}})
	validator := va.New(logger, httpPort, tlsPort, false, dnsStub(t), store)
	front := wfe.New(logger, store, validator, authority, []string{"pebble.letsencrypt.org"}, false, false, 0, 0)
	srv := httptest.NewTLSServer(front.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pebble logs:\n%s", logs)
		}
	})
	roots := x509.NewCertPool()
	roots.AddCert(authority.GetRootCert(0).Cert)
	return &pebbleCA{directory: srv.URL + wfe.DirectoryPath, client: srv.Client(), roots: roots, logs: logs, store: store}
}

// dnsStub serves DNS over TCP (how Pebble asks a custom resolver): every A
// query is answered 127.0.0.1, every other query with no records. It
// returns its address.
func dnsStub(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	srv := &dns.Server{
		Listener:          ln,
		NotifyStartedFunc: func() { close(started) },
		Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
			m := new(dns.Msg)
			m.SetReply(q)
			for _, question := range q.Question {
				if question.Qtype == dns.TypeA {
					m.Answer = append(m.Answer, &dns.A{
						Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
						A:   net.IPv4(127, 0, 0, 1),
					})
				}
			}
			_ = w.WriteMsg(m)
		}),
	}
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return ln.Addr().String()
}

// freePort returns a loopback port that was free a moment ago: Pebble must
// know herald's ports before herald listens on them.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestServeACMETLSALPN01 gets a certificate from Pebble through the
// TLS-ALPN-01 challenge, which Pebble sends to herald's main listener (so
// acme-tls/1 must be among its protocols), then serves WSS with it. A
// restart with the same cache directory serves the same certificate without
// asking the CA.
func TestServeACMETLSALPN01(t *testing.T) {
	port := freePort(t)
	pebble := startPebble(t, freePort(t), port) // HTTP-01 goes to a closed port
	cache := filepath.Join(t.TempDir(), "acme")
	r := startServeWith(t, serveOptions{lookupEnv: env(nil), acmeHTTPClient: pebble.client},
		"--addr=127.0.0.1:"+strconv.Itoa(port), "--shutdown-window=50ms", "--log-format=json",
		"--acme-domains="+acmeTestDomain, "--acme-email=ops@herald.test",
		"--acme-directory-url="+pebble.directory, "--acme-cache-dir="+cache)

	cert := checkACMECert(t, r.addr, pebble.roots)
	if got := pebble.validatedBy(t, cert); !slices.Equal(got, []string{"tls-alpn-01"}) {
		t.Errorf("validated by %q, want tls-alpn-01", got)
	}
	checkACMEWebSocket(t, r.addr, pebble.roots)

	// The cache holds the account key and the certificate with its key,
	// readable by the owner alone.
	for _, name := range []string{"acme_account+key", acmeTestDomain} {
		fi, err := os.Stat(filepath.Join(cache, name))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("cache file %s: %v, %v; want mode 0600", name, fi, err)
		}
	}
	if err := r.stop(t); err != nil {
		t.Fatalf("serve returned %v", err)
	}

	// A restart whose CA is unreachable serves the cached certificate.
	r = startServeWith(t, serveOptions{lookupEnv: env(nil)},
		"--addr=127.0.0.1:0", "--shutdown-window=50ms",
		"--acme-domains="+acmeTestDomain, "--acme-directory-url=https://127.0.0.1:1/dir", "--acme-cache-dir="+cache)
	if again := checkACMECert(t, r.addr, pebble.roots); !again.Equal(cert) {
		t.Errorf("after a restart: serial %v, want the cached %v", again.SerialNumber, cert.SerialNumber)
	}
}

// TestServeACMEHTTP01 gets a certificate from Pebble through the HTTP-01
// challenge, answered on --acme-http-addr. Pebble's TLS-ALPN-01 port is
// closed, so autocert's first choice fails and HTTP-01 is the only way.
func TestServeACMEHTTP01(t *testing.T) {
	httpPort := freePort(t)
	pebble := startPebble(t, httpPort, freePort(t))
	r := startServeWith(t, serveOptions{lookupEnv: env(nil), acmeHTTPClient: pebble.client},
		"--addr=127.0.0.1:0", "--shutdown-window=50ms", "--log-format=json",
		"--acme-domains=other.herald.test,"+acmeTestDomain, "--acme-http-addr=127.0.0.1:"+strconv.Itoa(httpPort),
		"--acme-directory-url="+pebble.directory, "--acme-cache-dir="+filepath.Join(t.TempDir(), "acme"))

	cert := checkACMECert(t, r.addr, pebble.roots)
	if got := pebble.validatedBy(t, cert); !slices.Equal(got, []string{"http-01"}) {
		t.Errorf("validated by %q, want http-01", got)
	}
	checkACMEWebSocket(t, r.addr, pebble.roots)
}

// checkACMECert does a TLS handshake with herald at addr for the test
// domain, trusting only Pebble's root, and returns the certificate. The
// first handshake waits for the certificate to be issued.
func checkACMECert(t *testing.T, addr string, roots *x509.CertPool) *x509.Certificate {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d := tls.Dialer{Config: &tls.Config{ServerName: acmeTestDomain, RootCAs: roots, NextProtos: []string{"h2", "http/1.1"}}}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatalf("TLS handshake for %s: %v", acmeTestDomain, err)
	}
	defer c.Close()
	cs := c.(*tls.Conn).ConnectionState()
	leaf := cs.PeerCertificates[0]
	if !slices.Equal(leaf.DNSNames, []string{acmeTestDomain}) || !strings.Contains(leaf.Issuer.CommonName, "Pebble") {
		t.Errorf("certificate for %q issued by %q, want %s from Pebble", leaf.DNSNames, leaf.Issuer.CommonName, acmeTestDomain)
	}
	if cs.NegotiatedProtocol != "http/1.1" || cs.Version < tls.VersionTLS12 {
		t.Errorf("negotiated %q over TLS %x, want http/1.1 over TLS 1.2 or later", cs.NegotiatedProtocol, cs.Version)
	}
	return leaf
}

// checkACMEWebSocket connects over wss://rt.herald.test, trusting only
// Pebble's root, and streams a few publications through herald.
func checkACMEWebSocket(t *testing.T, addr string, roots *x509.CertPool) {
	t.Helper()
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr) // rt.herald.test is this server
		},
	}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, port, _ := net.SplitHostPort(addr)
	c, _, err := websocket.Dial(ctx, "wss://"+net.JoinHostPort(acmeTestDomain, port)+"/ws",
		&websocket.DialOptions{HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatalf("wss dial: %v", err)
	}
	defer c.CloseNow()
	streamOverTLS(t, c, 5, 1<<10)
	_ = c.Close(websocket.StatusNormalClosure, "")
}
