package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldrt/herald/auth"
	"github.com/heraldrt/herald/internal/wstest"
)

// proxyBackend answers connect from the sid cookie (ann) and echoes RPCs;
// it counts connect calls.
func proxyBackend(t *testing.T, connects *atomic.Int32) string {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req map[string]json.RawMessage
		_ = json.NewDecoder(r.Body).Decode(&req)
		switch r.URL.Path {
		case "/herald/connect":
			connects.Add(1)
			if c, err := r.Cookie("sid"); err != nil || c.Value != "ann-session" {
				io.WriteString(w, `{"error":{"code":101,"message":"log in first"}}`)
				return
			}
			io.WriteString(w, `{"result":{"user":"ann"}}`)
		case "/herald/rpc":
			io.WriteString(w, `{"result":{"user":`+string(req["user"])+`,"method":`+string(req["method"])+`}}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s.URL + "/herald"
}

// TestServeProxyURL: --proxy-url with the proxy section's events and
// cookies: the backend authenticates connects from the session cookie and
// answers RPCs; its calls are counted on /metrics; open mode is off.
func TestServeProxyURL(t *testing.T) {
	var connects atomic.Int32
	url := proxyBackend(t, &connects)
	cfg := writeConfig(t, "proxy:\n  events: [connect, rpc]\n  cookies: [sid]\n  timeout: 2s\n")
	r := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--proxy-url", url, "--config", cfg)
	c := wstest.Dial(t, r.url(), http.Header{"Cookie": {"sid=ann-session"}})
	if res := c.Connect(); res.User != "ann" {
		t.Fatalf("user %q, want ann", res.User)
	}
	if rep := c.Call(map[string]any{"op": "rpc", "method": "whoami"}); rep.Error != nil || string(rep.Result) != `{"data":{"user":"ann","method":"whoami"}}` {
		t.Fatalf("rpc: %s %v", rep.Result, rep.Error)
	}
	// subscribe is not among the events: the node's rules (user) decide.
	if rep := c.Call(map[string]any{"op": "subscribe", "channel": "news"}); rep.Error != nil {
		t.Fatal(rep.Error)
	}
	anon := wstest.Dial(t, r.url())
	id := anon.Command(map[string]any{"op": "connect"})
	if rep := anon.WaitReply(id); rep.Error == nil || rep.Error.Code != 101 {
		t.Fatalf("no cookie: %+v", rep.Error)
	}
	_, body := get(t, "http://"+r.addr+"/metrics")
	if !strings.Contains(body, `herald_proxy_calls_total{event="rpc",outcome="ok"} 1`) {
		t.Fatalf("metrics lack the proxy calls:\n%s", body)
	}
}

// TestServeProxyWithJWT: with a token secret and a connect proxy, a
// connect with a token is the JWT rules' (a bad one is refused without
// asking the backend), one without goes to the backend; RPCs go to the
// backend whoever authenticated the connection.
func TestServeProxyWithJWT(t *testing.T) {
	var connects atomic.Int32
	url := proxyBackend(t, &connects)
	cfg := writeConfig(t, "proxy:\n  events: [connect, rpc]\n  cookies: [sid]\n")
	r := startServeEnv(t, map[string]string{"HERALD_TOKEN_SECRET": testSecret},
		"--addr=127.0.0.1:0", "--shutdown-window=50ms", "--proxy-url", url, "--config", cfg)

	tok, err := auth.Mint([]byte(testSecret), "HS256", auth.Claims{User: "bob", Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	jwtClient := wstest.Dial(t, r.url(), http.Header{"Cookie": {"sid=ann-session"}})
	if res := jwtClient.Connect(map[string]any{"token": tok}); res.User != "bob" {
		t.Fatalf("with a token: user %q, want bob (the JWT's)", res.User)
	}
	if rep := jwtClient.Call(map[string]any{"op": "rpc", "method": "m"}); rep.Error != nil || !strings.Contains(string(rep.Result), `"user":"bob"`) {
		t.Fatalf("rpc of a JWT connection: %s %v", rep.Result, rep.Error)
	}
	if n := connects.Load(); n != 0 {
		t.Fatalf("the backend was asked %d times about a connect with a token", n)
	}
	forged := wstest.Dial(t, r.url(), http.Header{"Cookie": {"sid=ann-session"}})
	id := forged.Command(map[string]any{"op": "connect", "token": tok + "x"})
	if rep := forged.WaitReply(id); rep.Error == nil || rep.Error.Code != 101 || connects.Load() != 0 {
		t.Fatalf("bad token: %+v, backend asked %d times", rep.Error, connects.Load())
	}
	cookieClient := wstest.Dial(t, r.url(), http.Header{"Cookie": {"sid=ann-session"}})
	if res := cookieClient.Connect(); res.User != "ann" || connects.Load() != 1 {
		t.Fatalf("without a token: user %q (want ann, the backend's), backend asked %d times", res.User, connects.Load())
	}
}

// TestProxyConfigErrors: what the proxy section refuses, saying why.
func TestProxyConfigErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"proxy:\n  events: [conect]\n", `unknown event "conect"`},
		{"proxy:\n  rpc:\n    - {method: 'a.*', url: 'http://x/rpc', retries: 2}\n", "never repeated"},
		{"proxy:\n  timeout: 2s\n", "no event goes to a backend"},
		{"proxy:\n  connect: {url: 'ftp://x'}\n", "want an http or https URL"},
	} {
		c := Defaults()
		if err := decodeYAML(strings.NewReader(tc.yaml), &c); err != nil {
			t.Fatalf("%q: %v", tc.yaml, err)
		}
		if err := c.checkCombinations(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.yaml, err, tc.want)
		}
	}
}

// TestServeProxyCookiesAfterJWTConnect: a connection authenticated by a
// token still has its sid cookie forwarded to the subscribe endpoint.
func TestServeProxyCookiesAfterJWTConnect(t *testing.T) {
	got := make(chan string, 1)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.URL.Path + " " + r.Header.Get("Cookie")
		io.WriteString(w, `{"result":{}}`)
	}))
	defer backend.Close()
	cfg := writeConfig(t, "proxy:\n  events: [subscribe]\n  cookies: [sid]\n")
	r := startServeEnv(t, map[string]string{"HERALD_TOKEN_SECRET": testSecret},
		"--addr=127.0.0.1:0", "--shutdown-window=50ms", "--proxy-url", backend.URL, "--config", cfg)
	tok, err := auth.Mint([]byte(testSecret), "HS256", auth.Claims{User: "bob", Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	c := wstest.Dial(t, r.url(), http.Header{"Cookie": {"sid=bob-session; theme=dark"}})
	c.Connect(map[string]any{"token": tok})
	if rep := c.Call(map[string]any{"op": "subscribe", "channel": "news"}); rep.Error != nil {
		t.Fatal(rep.Error)
	}
	if g := <-got; g != "/subscribe sid=bob-session" {
		t.Fatalf("backend got %q", g)
	}
}
