package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/heraldrt/herald/internal/browsertest"
	"github.com/heraldrt/herald/internal/wstest"
)

// TestParseBrokerKeepsTheBrokersOwnParameters: a NATS URL's own query
// parameters (credentials, TLS files) stay in the URL the broker gets;
// Herald's are taken out.
func TestParseBrokerKeepsTheBrokersOwnParameters(t *testing.T) {
	spec, err := parseBroker("nats://tok@h:4222?creds=/etc/herald/user.creds&prefix=app&timeout=3s")
	if err != nil {
		t.Fatal(err)
	}
	if spec.kind != "nats" || spec.url != "nats://tok@h:4222?creds=%2Fetc%2Fherald%2Fuser.creds" || spec.prefix != "app" || spec.timeout != 3*time.Second {
		t.Errorf("parsed %+v", spec)
	}
	if strings.Contains(spec.redacted, "tok@") {
		t.Errorf("redacted %q shows the token", spec.redacted)
	}
}

func TestParseBroker(t *testing.T) {
	spec, err := parseBroker("redis://:pw@10.0.0.5:6379/2?prefix=app&timeout=2s&presence_ttl=30s&position_check=5s")
	if err != nil {
		t.Fatal(err)
	}
	if spec.url != "redis://:pw@10.0.0.5:6379/2" || spec.prefix != "app" || spec.timeout != 2*time.Second || spec.presence != 30*time.Second || spec.check != 5*time.Second {
		t.Errorf("parsed %+v", spec)
	}
	if spec.redacted != "redis://:xxxxx@10.0.0.5:6379/2" || strings.Contains(spec.redacted, "pw") {
		t.Errorf("redacted %q shows the password", spec.redacted)
	}
	for _, ok := range []string{"redis://127.0.0.1:6379", "rediss://h:6380/0", "redis+sentinel://h1:26379,h2:26379/mymaster/0", "redis://h1:7000,h2:7001",
		"nats://127.0.0.1:4222", "nats://u:p@h1:4222,nats://h2:4222", "tls://h:4222"} {
		if _, err := parseBroker(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for bad, want := range map[string]string{
		"127.0.0.1:6379":                 "want a URL",
		"memcache://h:1":                 "unknown broker",
		"redis://h:1?ttl=3s":             `unknown parameter "ttl"`,
		"redis://h:1?timeout=soon":       "positive duration",
		"redis://h:1?presence_ttl=-1s":   "positive duration",
		"redis://h:1?timeout=1s&%zz=bad": "bad query",
		"redis://h:1?creds=/x":           `unknown parameter "creds"`,
	} {
		if _, err := parseBroker(bad); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error saying %q", bad, err, want)
		}
	}
}

// redisURL returns the machine's Redis for these tests, with a key
// prefix of their own, or skips (fails in CI) without one.
func redisURL(t *testing.T) string {
	t.Helper()
	return serviceURL(t, "Redis", "127.0.0.1:6379", "redis://127.0.0.1:6379/0")
}

// natsURL returns the machine's NATS (with JetStream) for these tests,
// with a prefix of their own, or skips (fails in CI) without one.
func natsURL(t *testing.T) string {
	t.Helper()
	return serviceURL(t, "NATS", "127.0.0.1:4222", "nats://127.0.0.1:4222")
}

func serviceURL(t *testing.T, name, addr, base string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		browsertest.NeedService(t, "no %s on %s (%v)", name, addr, err)
	}
	c.Close()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return base + "?prefix=clitest_" + hex.EncodeToString(b)
}

// TestServeJoinsNodes: two serve instances with the same --broker are one
// system, on Redis and on NATS: a publication through one node's API
// reaches a client of the other, /api/info lists both, /api/disconnect on
// one closes a client of the other, and the log names the broker without
// its password and says when the cluster is joined.
func TestServeJoinsNodes(t *testing.T) {
	t.Run("redis", func(t *testing.T) { testServeJoinsNodes(t, redisURL(t), `"url":"redis://127.0.0.1:6379/0"`) })
	t.Run("nats", func(t *testing.T) { testServeJoinsNodes(t, natsURL(t), `"url":"nats://127.0.0.1:4222"`) })
}

func testServeJoinsNodes(t *testing.T, broker, logged string) {
	args := func(name string) []string {
		return []string{"--addr=127.0.0.1:0", "--shutdown-window=50ms", "--log-format=json", "--api-key=k",
			"--name=" + name, "--broker=" + broker, "--announce-interval=100ms"}
	}
	a := startServe(t, args("node-a")...)
	b := startServe(t, args("node-b")...)

	sub := wstest.Dial(t, "ws://"+b.addr+"/ws")
	id := sub.Connect().Client
	if rep := sub.Call(map[string]any{"op": "subscribe", "channel": "news"}); rep.Error != nil {
		t.Fatal(rep.Error)
	}
	status, body := apiCall(t, a.addr, "publish", `{"channel":"news","data":{"n":1}}`)
	if status != http.StatusOK {
		t.Fatalf("publish through node-a: %d %s", status, body)
	}
	push, err := sub.NextPush("pub", 5*time.Second)
	if err != nil || !strings.Contains(string(push.Data), `"n":1`) {
		t.Fatalf("node-b's client got %+v, %v; want node-a's publication", push, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, body = apiCall(t, a.addr, "info", `{}`)
		if strings.Contains(body, "node-a") && strings.Contains(body, "node-b") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/api/info does not list both nodes: %s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for time.Now().Before(deadline) && !strings.Contains(a.logs.String(), "cluster joined") {
		time.Sleep(50 * time.Millisecond)
	}
	// /api/disconnect on node-a reaches the client on node-b.
	if status, body := apiCall(t, a.addr, "disconnect", `{"client":"`+id+`","code":4001,"reason":"bye"}`); status != http.StatusOK {
		t.Fatalf("disconnect through node-a: %d %s", status, body)
	}
	if code := sub.ExpectClose(5 * time.Second); code != 4001 {
		t.Errorf("node-b's client closed with %d, want 4001 from node-a's /api/disconnect", code)
	}
	logs := a.logs.String()
	if !strings.Contains(logs, logged) || !strings.Contains(logs, "cluster joined") {
		t.Errorf("the log does not name the broker and the cluster:\n%s", logs)
	}
	if strings.Contains(logs, "no --broker") {
		t.Errorf("a node with --broker warns that it is alone:\n%s", logs)
	}
}

// TestServeWithoutBrokerWarns: without --broker the node says, once, at
// start, that it is joined to no other node.
func TestServeWithoutBrokerWarns(t *testing.T) {
	r := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--log-format=json")
	if n := strings.Count(r.logs.String(), "no --broker"); n != 1 {
		t.Errorf("the warning appears %d times, want once:\n%s", n, r.logs)
	}
}

// TestServeBrokerUnreachable: a broker that cannot be reached stops the
// start with an error that names it without its password.
func TestServeBrokerUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens there now
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	logs := &syncBuffer{}
	err = serve(ctx, []string{"--addr=127.0.0.1:0", "--log-format=json", fmt.Sprintf("--broker=redis://:hunter2@127.0.0.1:%d/0?timeout=200ms", port)},
		serveOptions{lookupEnv: env(nil), stderr: logs})
	if err == nil {
		t.Fatal("serve started without its broker")
	}
	if strings.Contains(err.Error()+logs.String(), "hunter2") {
		t.Errorf("the password shows: %v\n%s", err, logs)
	}
	if !strings.Contains(err.Error(), "broker") {
		t.Errorf("the error does not name the broker: %v", err)
	}
}

// apiCall posts body to the HTTP API method on addr with the key "k" and
// returns the status and the body of the answer.
func apiCall(t *testing.T, addr, method, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", "http://"+addr+"/api/"+method, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-API-Key", "k")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeUserLimitAcrossNodes: --max-connections-per-user counts a
// user's connections on every node of the cluster: alice on node-a holds
// the one place, so node-b refuses her (106, close 3502) until she leaves.
func TestServeUserLimitAcrossNodes(t *testing.T) {
	broker := redisURL(t)
	vars := map[string]string{"HERALD_TOKEN_SECRET": testSecret}
	args := func(name string) []string {
		return []string{"--addr=127.0.0.1:0", "--shutdown-window=50ms", "--name=" + name,
			"--broker=" + broker, "--max-connections-per-user=1"}
	}
	a := startServeEnv(t, vars, args("node-a")...)
	b := startServeEnv(t, vars, args("node-b")...)
	token := mintWithCLI(t, "--user", "alice")

	first := wstest.Dial(t, "ws://"+a.addr+"/ws")
	first.Connect(map[string]any{"token": token})
	second := wstest.Dial(t, "ws://"+b.addr+"/ws")
	if rep := second.Call(map[string]any{"op": "connect", "token": token}); rep.Error == nil || rep.Error.Code != 106 {
		t.Fatalf("alice's second connection, on node-b: %+v, want error 106", rep)
	}
	if code := second.ExpectClose(5 * time.Second); code != 3502 {
		t.Fatalf("close code %d, want 3502", code)
	}
	_ = first.Conn.Close(websocket.StatusNormalClosure, "bye")
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := wstest.Dial(t, "ws://"+b.addr+"/ws")
		rep := c.Call(map[string]any{"op": "connect", "token": token})
		if rep.Error == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node-b still refuses alice after she left node-a: %+v", rep.Error)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
