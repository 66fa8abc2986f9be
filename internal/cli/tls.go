package cli

import (
	"crypto/tls"
	"fmt"
	"net/http"
)

// tlsConfig loads the certificate and key when both are set, or returns nil
// to serve plain HTTP.
func tlsConfig(c *Config) (*tls.Config, error) {
	if c.TLSCert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate %s and key %s: %w", c.TLSCert, c.TLSKey, err)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{"http/1.1"}, // WebSocket upgrades need HTTP/1.1
	}, nil
}

// http1Only restricts a server to HTTP/1.1: over TLS, net/http would offer
// HTTP/2, where the WebSocket upgrade does not exist.
func http1Only() *http.Protocols {
	var p http.Protocols
	p.SetHTTP1(true)
	return &p
}
