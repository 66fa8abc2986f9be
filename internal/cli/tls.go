package cli

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"

	"golang.org/x/crypto/acme/autocert"
)

// tlsConfig returns the server's TLS configuration: with certificates from
// an ACME CA for --acme-domains (and their manager, whose HTTP-01 handler
// startACMEHTTP serves), with the certificate and key files of --tls-cert
// and --tls-key, or nil to serve plain HTTP. acmeClient is the HTTP client
// of the ACME client; nil uses the default.
func tlsConfig(c *Config, acmeClient *http.Client, log *slog.Logger) (*tls.Config, *autocert.Manager, error) {
	m, err := acmeManager(c, acmeClient, log)
	if err != nil {
		return nil, nil, err
	}
	if m != nil {
		return acmeTLSConfig(m, c, log), m, nil
	}
	if c.TLSCert == "" {
		return nil, nil, nil
	}
	cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
	if err != nil {
		return nil, nil, fmt.Errorf("TLS certificate %s and key %s: %w", c.TLSCert, c.TLSKey, err)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{"http/1.1"}, // WebSocket upgrades need HTTP/1.1
	}, nil, nil
}

// http1Only restricts a server to HTTP/1.1: over TLS, net/http would offer
// HTTP/2, where the WebSocket upgrade does not exist.
func http1Only() *http.Protocols {
	var p http.Protocols
	p.SetHTTP1(true)
	return &p
}
