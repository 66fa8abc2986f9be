package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/protocol"
)

// testSecret is the token secret of these tests; the logs must never show
// it.
const testSecret = "s3cret-s3cret-s3cret-s3cret-0123456789"

// mintWithCLI runs `herald token` with the secret in the environment and
// returns the token it prints.
func mintWithCLI(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runToken(args, &out, &errOut, env(map[string]string{"HERALD_TOKEN_SECRET": testSecret}))
	if code != exitOK {
		t.Fatalf("herald token %q: exit %d: %s", args, code, errOut.String())
	}
	return strings.TrimSpace(out.String())
}

// TestServeWithTokenSecret: with a token secret, connect needs a token
// (101 and close 3500 without one or with a bad one, 109 and 3005 when it
// expired); one minted by `herald token` works; open mode's loopback rule
// no longer applies; and the logs never show the secret or a token.
func TestServeWithTokenSecret(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "herald.yaml")
	namespaces := "namespaces:\n  private: {subscribe_access: token, publish_access: token}\n  news: {}\n"
	if err := os.WriteFile(cfg, []byte(namespaces), 0o600); err != nil {
		t.Fatal(err)
	}
	r := startServeEnv(t, map[string]string{"HERALD_TOKEN_SECRET": testSecret},
		"--addr=0.0.0.0:0", "--shutdown-window=50ms", "--log-format=json", "--log-level=debug", "--config", cfg)
	_, port, _ := net.SplitHostPort(r.addr)
	url := "ws://127.0.0.1:" + port + "/ws"

	expired, err := auth.Mint([]byte(testSecret), "HS256", auth.Claims{User: "alice", Expires: time.Now().Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	forged, err := auth.Mint([]byte(strings.Repeat("x", 40)), "HS256", auth.Claims{User: "mallory", Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	noneTok, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "mallory"}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	for _, tc := range []struct {
		name      string
		token     string
		code      int
		closeCode int
	}{
		{"no token", "", protocol.CodeUnauthorized, protocol.CloseInvalidToken},
		{"garbage", "garbage.garbage.garbage", protocol.CodeUnauthorized, protocol.CloseInvalidToken},
		{"another secret", forged, protocol.CodeUnauthorized, protocol.CloseInvalidToken},
		{"alg none", noneTok, protocol.CodeUnauthorized, protocol.CloseInvalidToken},
		{"expired", expired, protocol.CodeTokenExpired, protocol.CloseTokenExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := wstest.Dial(t, url)
			reply := c.Call(map[string]any{"op": "connect", "token": tc.token})
			if reply.Error == nil || reply.Error.Code != tc.code {
				t.Fatalf("connect reply %+v, want error %d", reply, tc.code)
			}
			if code := c.ExpectClose(5 * time.Second); code != tc.closeCode {
				t.Fatalf("close code %d, want %d", code, tc.closeCode)
			}
		})
	}

	token := mintWithCLI(t, "--user", "alice", "--channel", "news", "--channel", "private:alice", "--info", `{"name":"Alice"}`)
	c := wstest.Dial(t, url)
	res := c.Connect(map[string]any{"token": token})
	if res.User != "alice" || res.Subs["news"] == nil || res.Subs["private:alice"] == nil {
		t.Fatalf("connect result %+v, want user alice subscribed to news and private:alice", res)
	}
	// Channels of a token namespace need a channel token; others need a user.
	if rep := c.Call(map[string]any{"op": "subscribe", "channel": "chat"}); rep.Error != nil {
		t.Errorf("subscribe chat: %v", rep.Error)
	}
	if rep := c.Call(map[string]any{"op": "subscribe", "channel": "private:room"}); rep.Error == nil || rep.Error.Code != protocol.CodePermissionDenied {
		t.Errorf("subscribe private:room without a channel token: %+v, want 103", rep)
	}
	chTok := mintWithCLI(t, "--channel-token", "private:room", "--user", "alice")
	if rep := c.Call(map[string]any{"op": "subscribe", "channel": "private:room", "token": chTok}); rep.Error != nil {
		t.Errorf("subscribe private:room with a channel token: %v", rep.Error)
	}
	if rep := c.Call(map[string]any{"op": "publish", "channel": "private:other", "data": 1}); rep.Error == nil || rep.Error.Code != protocol.CodePermissionDenied {
		t.Errorf("publish to private:other: %+v, want 103", rep)
	}

	if err := r.stop(t); err != nil {
		t.Fatalf("serve returned %v", err)
	}
	logs := r.logs.String()
	for _, secret := range []string{testSecret, token, chTok, expired, forged, noneTok} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs show a secret or token %q:\n%s", secret, logs)
		}
	}
	for _, want := range []string{"authentication on", `"msg":"connect refused"`, "signature is invalid", "token expired"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs do not mention %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "open mode") {
		t.Errorf("logs claim open mode:\n%s", logs)
	}
}

// TestServeWithPublicKeyFile: --token-public-key verifies RS256 tokens; a
// missing file stops the server with an error naming it.
func TestServeWithPublicKeyFile(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	file := filepath.Join(t.TempDir(), "rsa.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	r := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--token-public-key", file, "--token-audience", "herald")
	tok, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"sub": "bob", "aud": "herald", "exp": time.Now().Add(time.Hour).Unix()}).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	c := wstest.Dial(t, "ws://"+r.addr+"/ws")
	if res := c.Connect(map[string]any{"token": tok}); res.User != "bob" {
		t.Fatalf("connect result %+v", res)
	}
	// The classic confusion: HS256 signed with the public key file's bytes.
	pemBytes, _ := os.ReadFile(file)
	forged, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "mallory", "aud": "herald"}).SignedString(pemBytes)
	c2 := wstest.Dial(t, "ws://"+r.addr+"/ws")
	if rep := c2.Call(map[string]any{"op": "connect", "token": forged}); rep.Error == nil || rep.Error.Code != protocol.CodeUnauthorized {
		t.Fatalf("HS256 token signed with the public key: %+v", rep)
	}

	logs := &syncBuffer{}
	missing := filepath.Join(t.TempDir(), "nope.pem")
	err = serve(context.Background(), []string{"--addr=127.0.0.1:0", "--token-public-key", missing, "--log-format=text"},
		serveOptions{lookupEnv: env(nil), stderr: logs, ready: func(net.Addr) { t.Error("serve listened") }})
	if err == nil || !strings.Contains(logs.String(), missing) {
		t.Fatalf("missing key file: %v\n%s", err, logs)
	}
}

// handshake sends a WebSocket upgrade request with origin (none when "")
// and returns the HTTP status.
func handshake(t *testing.T, addr, origin string) int {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusForbidden {
		body, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(body), "origin not allowed") {
			t.Errorf("403 body %q does not say why", body)
		}
	}
	return resp.StatusCode
}

// TestServeOrigins: --origins allows the listed origins and patterns;
// anything else, look-alikes and "null" included, gets 403 before the
// upgrade. Same-origin pages and clients without Origin always pass; local
// pages pass too in open mode on loopback.
func TestServeOrigins(t *testing.T) {
	r := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--origins", "https://app.example.com, https://*.example.org")
	for _, tc := range []struct {
		origin string
		status int
	}{
		{"", http.StatusSwitchingProtocols},
		{"http://" + r.addr, http.StatusSwitchingProtocols}, // same origin
		{"https://app.example.com", http.StatusSwitchingProtocols},
		{"https://chat.example.org", http.StatusSwitchingProtocols},
		{"https://evil.io", http.StatusForbidden},
		{"https://app.example.com.evil.io", http.StatusForbidden},
		{"https://example.org.evil.io", http.StatusForbidden},
		{"http://app.example.com", http.StatusForbidden},
		{"https://app.example.com:8443", http.StatusForbidden},
		{"null", http.StatusForbidden},
	} {
		if got := handshake(t, r.addr, tc.origin); got != tc.status {
			t.Errorf("Origin %q: status %d, want %d", tc.origin, got, tc.status)
		}
	}

	// Without --origins: same origin only.
	r2 := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms")
	if got := handshake(t, r2.addr, "https://app.example.com"); got != http.StatusForbidden {
		t.Errorf("default: a foreign origin got %d, want 403", got)
	}
	if got := handshake(t, r2.addr, "http://"+r2.addr); got != http.StatusSwitchingProtocols {
		t.Errorf("default: the same origin got %d, want 101", got)
	}
	// Open mode on loopback is for development: pages served from this
	// machine may connect too; with authentication, they may not.
	if got := handshake(t, r2.addr, "http://localhost:5173"); got != http.StatusSwitchingProtocols {
		t.Errorf("open mode on loopback: a local page got %d, want 101", got)
	}
	r3 := startServeEnv(t, map[string]string{"HERALD_TOKEN_SECRET": testSecret}, "--addr=127.0.0.1:0", "--shutdown-window=50ms")
	if got := handshake(t, r3.addr, "http://localhost:5173"); got != http.StatusForbidden {
		t.Errorf("with authentication: a local page got %d, want 403", got)
	}
}

// TestServeSecurityUsageErrors: settings that would weaken security or
// cannot work together stop serve with a usage error, never showing a
// secret.
func TestServeSecurityUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--tls-cert", "c.pem"}, "tls_key"},
		{[]string{"--tls-key", "k.pem"}, "tls_cert"},
		{[]string{"--token-audience", "herald"}, "need a token key"},
		{[]string{"--token-secret", "hunter2"}, "32 bytes"},
		{[]string{"--origins", "https://*.com"}, "origins"},
		{[]string{"--pprof"}, "admin"},
	} {
		err := serve(context.Background(), tc.args, serveOptions{lookupEnv: env(nil), stderr: io.Discard})
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want a usage error mentioning %q", tc.args, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: the error shows the secret: %v", tc.args, err)
		}
	}
}

// TestServeTokenRefresh: with a token secret, a connection lives as long as
// its token: the server sends the refresh push --refresh-ahead before the
// token's exp; a client that sends refresh with a new token for the same
// user stays connected past the first token's exp; one that does not is
// closed with 3005; a refresh with another user's token closes with 3500.
func TestServeTokenRefresh(t *testing.T) {
	r := startServeEnv(t, map[string]string{"HERALD_TOKEN_SECRET": testSecret},
		"--addr=127.0.0.1:0", "--shutdown-window=50ms", "--log-format=json", "--log-level=debug", "--refresh-ahead=1s")
	url := "ws://" + r.addr + "/ws"
	// exp has whole seconds: these tokens expire in 2 to 3 s.
	short := func() (string, time.Time) {
		exp := time.Now().Add(3 * time.Second).Truncate(time.Second)
		return mintWithCLI(t, "--user", "alice", "--ttl", "3s"), exp
	}
	var (
		mu     sync.Mutex
		tokens = []string{testSecret}
	)
	seen := func(tok ...string) {
		mu.Lock()
		tokens = append(tokens, tok...)
		mu.Unlock()
	}

	t.Run("refreshed", func(t *testing.T) {
		t.Parallel()
		token, exp := short()
		c := wstest.Dial(t, url)
		if res := c.Connect(map[string]any{"token": token}); res.Expires == 0 || res.Expires > exp.Unix() {
			t.Fatalf("connect result expires %d, want about %d", res.Expires, exp.Unix())
		}
		push, err := c.NextPush(protocol.OpRefreshPush, 5*time.Second)
		if err != nil {
			t.Fatalf("no refresh push: %v", err)
		}
		if early := time.Until(exp); early > 1500*time.Millisecond {
			t.Errorf("the refresh push came %v before exp, want about --refresh-ahead (1s): %+v", early, push)
		}
		fresh := mintWithCLI(t, "--user", "alice", "--ttl", "1h")
		r := c.Call(map[string]any{"op": "refresh", "token": fresh})
		var res protocol.RefreshResult
		if r.Error != nil || json.Unmarshal(r.Result, &res) != nil || res.Expires < time.Now().Add(59*time.Minute).Unix() {
			t.Fatalf("refresh reply %+v, want expires in an hour", r)
		}
		time.Sleep(time.Until(exp) + 500*time.Millisecond)
		if r := c.Call(map[string]any{"op": "subscribe", "channel": "news"}); r.Error != nil {
			t.Fatalf("subscribe past the first token's exp: %v", r.Error)
		}
		seen(token, fresh)
	})
	t.Run("not refreshed", func(t *testing.T) {
		t.Parallel()
		token, exp := short()
		seen(token)
		c := wstest.Dial(t, url)
		c.Connect(map[string]any{"token": token})
		if _, err := c.NextPush(protocol.OpRefreshPush, 5*time.Second); err != nil {
			t.Fatalf("no refresh push: %v", err)
		}
		if code := c.ExpectClose(5 * time.Second); code != protocol.CloseTokenExpired {
			t.Fatalf("close %d, want 3005", code)
		}
		if early := time.Until(exp); early > 100*time.Millisecond {
			t.Fatalf("closed %v before the token's exp", early)
		}
	})
	t.Run("another user's token", func(t *testing.T) {
		t.Parallel()
		c := wstest.Dial(t, url)
		alice, bob := mintWithCLI(t, "--user", "alice"), mintWithCLI(t, "--user", "bob")
		seen(alice, bob)
		c.Connect(map[string]any{"token": alice})
		r := c.Call(map[string]any{"op": "refresh", "token": bob})
		if r.Error == nil || r.Error.Code != protocol.CodeUnauthorized {
			t.Fatalf("refresh with bob's token: %+v, want 101", r)
		}
		if code := c.ExpectClose(5 * time.Second); code != protocol.CloseInvalidToken {
			t.Fatalf("close %d, want 3500", code)
		}
	})
	t.Cleanup(func() {
		if err := r.stop(t); err != nil {
			t.Errorf("serve returned %v", err)
		}
		logs := r.logs.String()
		if !strings.Contains(logs, `"msg":"refresh refused"`) {
			t.Errorf("logs do not mention the refused refresh:\n%s", logs)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, tok := range tokens {
			if strings.Contains(logs, tok) {
				t.Errorf("the logs show a secret or token %q", tok)
			}
		}
	})
}
