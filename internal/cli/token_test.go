package cli

import (
	"bytes"
	"context"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald/auth"
)

// runTokenWith runs herald token with args and the environment vars.
func runTokenWith(vars map[string]string, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = runToken(args, &out, &errOut, env(vars))
	return code, out.String(), errOut.String()
}

// TestTokenCommand: herald token prints a token the server's verifier
// accepts, alone on stdout, with its claims; the usage goes to stderr.
func TestTokenCommand(t *testing.T) {
	secretEnv := map[string]string{"HERALD_TOKEN_SECRET": testSecret}
	code, out, errOut := runTokenWith(secretEnv, "--user", "alice", "--ttl", "30m", "--channel", "news", "--info", `{"name":"Alice"}`)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// stdout holds the token alone, so that TOKEN=$(herald token ...) works;
	// stderr says how to use it.
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 1 || strings.Count(lines[0], ".") != 2 {
		t.Fatalf("stdout %q, want one token", out)
	}
	for _, want := range []string{`new Herald("ws://127.0.0.1:8080/ws", { token:`, `user "alice"`, "expires"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr %q does not say %q", errOut, want)
		}
	}
	if strings.Contains(out+errOut, testSecret) {
		t.Error("the output shows the secret")
	}
	v, err := auth.NewVerifier(auth.Config{HMACSecret: []byte(testSecret)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(context.Background(), lines[0])
	if err != nil {
		t.Fatal(err)
	}
	if c.User != "alice" || string(c.Info) != `{"name":"Alice"}` || len(c.Channels) != 1 || c.Channels[0] != "news" {
		t.Errorf("claims %+v", c)
	}
	if d := time.Until(c.Expires); d < 29*time.Minute || d > 30*time.Minute {
		t.Errorf("expires in %v, want 30m", d)
	}
}

// TestTokenCommandReadsTheServerSettings: the secret, audience, issuer,
// address and TLS come from the flags, environment and config file the
// server reads, so the token passes the server's checks.
func TestTokenCommandReadsTheServerSettings(t *testing.T) {
	file := writeConfig(t, "token_secret: "+testSecret+"\ntoken_audience: herald\ntoken_issuer: me\naddr: 127.0.0.1:9443\ntls_cert: c.pem\ntls_key: k.pem\n")
	code, out, errOut := runTokenWith(nil, "--config", file, "--user", "bob")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "wss://127.0.0.1:9443/ws") {
		t.Errorf("stderr %q does not give the wss URL", errOut)
	}
	v, _ := auth.NewVerifier(auth.Config{HMACSecret: []byte(testSecret), Audience: "herald", Issuer: "me"})
	if _, err := v.Verify(context.Background(), strings.TrimSpace(out)); err != nil {
		t.Fatalf("the token fails the server's checks: %v", err)
	}

	// A channel token.
	code, out, errOut = runTokenWith(map[string]string{"HERALD_TOKEN_SECRET": testSecret}, "--channel-token", "$room", "--user", "bob", "--ttl", "5m")
	if code != exitOK || !strings.Contains(errOut, `"op":"subscribe"`) {
		t.Fatalf("channel token: exit %d, stderr %q", code, errOut)
	}
	v, _ = auth.NewVerifier(auth.Config{HMACSecret: []byte(testSecret)})
	if _, err := v.VerifyChannelToken(context.Background(), strings.TrimSpace(out), "bob", "$room"); err != nil {
		t.Fatalf("channel token: %v", err)
	}
}

// TestTokenCommandErrors: bad token flags exit 2 with the error and a
// pointer to help, never showing the secret.
func TestTokenCommandErrors(t *testing.T) {
	secretEnv := map[string]string{"HERALD_TOKEN_SECRET": testSecret}
	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
		want string
	}{
		{"no secret", nil, []string{"--user", "alice"}, "HERALD_TOKEN_SECRET"},
		{"short secret", map[string]string{"HERALD_TOKEN_SECRET": "hunter2"}, []string{"--user", "alice"}, "32 bytes"},
		{"no user", secretEnv, nil, "--user"},
		{"zero ttl", secretEnv, []string{"--user", "a", "--ttl", "0s"}, "--ttl"},
		{"info not JSON", secretEnv, []string{"--user", "a", "--info", "Alice"}, "JSON object"},
		{"info an array", secretEnv, []string{"--user", "a", "--info", "[1]"}, "JSON object"},
		{"channel token with channels", secretEnv, []string{"--channel-token", "$x", "--channel", "y"}, "--channel-token"},
		{"stray argument", secretEnv, []string{"--user", "a", "extra"}, "extra"},
		{"serve-only flag", secretEnv, []string{"--user", "a", "--ping-interval", "1s"}, "ping-interval"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runTokenWith(tc.vars, tc.args...)
			if code != exitUsage || out != "" {
				t.Fatalf("exit %d, stdout %q; want %d and nothing", code, out, exitUsage)
			}
			if !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "herald help") {
				t.Errorf("stderr %q does not mention %q and herald help", errOut, tc.want)
			}
			if strings.Contains(errOut, "hunter2") {
				t.Errorf("stderr shows the secret: %q", errOut)
			}
		})
	}
}

// TestMainToken: herald token runs through Main.
func TestMainToken(t *testing.T) {
	code, out, errOut := runMain("token", "--token-secret", testSecret, "--user", "carol")
	if code != exitOK || strings.Count(out, ".") != 2 || !strings.Contains(errOut, "new Herald(") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestTokenHelp: `herald token --help` prints the token's own usage, each
// of its flags with what it does, and not serve's flags.
func TestTokenHelp(t *testing.T) {
	for _, args := range [][]string{{"token", "--help"}, {"token", "-h"}} {
		code, out, errOut := runMain(args...)
		if code != exitOK || errOut != "" {
			t.Fatalf("%q: exit %d, stderr %q", args, code, errOut)
		}
		if !strings.HasPrefix(out, "Usage:\n  herald token --user ID") {
			t.Errorf("%q: help does not start with the token's usage:\n%s", args, out)
		}
		var o tokenOptions
		fs, _ := newTokenFlagSet(&o)
		n := 0
		fs.VisitAll(func(f *flag.Flag) {
			n++
			// The flag's line, then a line that describes it.
			i := strings.Index(out, "\n  --"+f.Name+" ")
			if i < 0 {
				t.Errorf("help does not list --%s", f.Name)
				return
			}
			lines := strings.SplitN(out[i+1:], "\n", 3)
			if len(lines) < 2 || len(strings.TrimSpace(lines[1])) < 10 || strings.HasPrefix(strings.TrimSpace(lines[1]), "--") {
				t.Errorf("help does not describe --%s: %q", f.Name, lines)
			}
		})
		if n != len(tokenFlags)+len(tokenSettings) {
			t.Errorf("token takes %d flags; tokenFlags and tokenSettings list %d", n, len(tokenFlags)+len(tokenSettings))
		}
		for _, want := range []string{"--user ID", "--ttl DURATION", "--channel CH", "--channel-token CH", "--info JSON", "HERALD_TOKEN_SECRET", "(default 1h)"} {
			if !strings.Contains(out, want) {
				t.Errorf("token help does not mention %q", want)
			}
		}
		for _, serveOnly := range []string{"--ping-interval", "--api-key", "Flags of serve", "herald bench"} {
			if strings.Contains(out, serveOnly) {
				t.Errorf("token help shows serve's %q", serveOnly)
			}
		}
	}
}
