package cli

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// the files and a pool that trusts the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "herald test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestServeTLS serves HTTPS and WSS with --tls-cert and --tls-key: the
// pages, the handshake, connect, subscribe and publish work over TLS.
func TestServeTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	r := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--log-format=json",
		"--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.Contains(r.logs.String(), `"url":"https://`+r.addr+`/"`) {
		t.Errorf("the listening log does not give the https URL:\n%s", r.logs)
	}
	c, client := dialTLS(t, r.addr, pool)
	resp, err := client.Get("https://" + r.addr + "/herald.js")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil || resp.ProtoMajor != 1 {
		t.Fatalf("GET /herald.js over TLS: %d %s", resp.StatusCode, resp.Proto)
	}
	streamOverTLS(t, c, 5, 1<<10)

	// Plain HTTP on the TLS port is refused.
	plain, err := http.Get("http://" + r.addr + "/herald.js")
	if err == nil {
		if plain.StatusCode < 400 {
			t.Errorf("plain HTTP on the TLS port: %d", plain.StatusCode)
		}
		plain.Body.Close()
	}
	http.DefaultClient.CloseIdleConnections()
}

// TestServeTLSLongStream sends a TLS client several times the write queue
// size. Connections that net/http's TLS hands over are served by nbio
// outside its poller, so the transport counts their written bytes on the
// connection itself; without that they would be closed as slow consumers
// (3002) after write_queue_size bytes.
func TestServeTLSLongStream(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	r := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--tls-cert", certFile, "--tls-key", keyFile)
	c, _ := dialTLS(t, r.addr, pool)
	streamOverTLS(t, c, 150, 30<<10) // about 4.5 MiB
}

// dialTLS connects a WebSocket client over TLS, trusting pool.
func dialTLS(t *testing.T, addr string, pool *x509.CertPool) (*websocket.Conn, *http.Client) {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "wss://"+addr+"/ws", &websocket.DialOptions{HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	c.SetReadLimit(16 << 20)
	return c, client
}

// streamOverTLS connects, subscribes, and publishes n messages of size
// bytes to itself, reading as it goes so that it is never a slow consumer.
func streamOverTLS(t *testing.T, c *websocket.Conn, n, size int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	send := func(v map[string]any) {
		b, _ := json.Marshal(v)
		if err := c.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
	}
	send(map[string]any{"id": 1, "op": "connect"})
	send(map[string]any{"id": 2, "op": "subscribe", "channel": "big"})
	payload := strings.Repeat("x", size)
	received := 0
	read := func(until int) {
		for received < until {
			_, data, err := c.Read(ctx)
			if err != nil {
				t.Fatalf("after %d publications: %v", received, err)
			}
			received += strings.Count(string(data), `"op":"pub"`)
		}
	}
	for i := 0; i < n; i++ {
		send(map[string]any{"id": 3 + i, "op": "publish", "channel": "big", "data": payload})
		read(i)
	}
	read(n)
}
