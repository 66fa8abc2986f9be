// Package examples_test runs the example backends (examples/node-backend
// and examples/python-backend) against the real herald binary: each
// authenticates connects from a session cookie, answers RPCs and receives
// signed webhooks. A test skips without node (or its npm packages: make
// e2e-deps) or python3, and fails instead under HERALD_REQUIRE_SERVICES=1.
package examples_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/browsertest"
	"github.com/heraldrt/herald/internal/clustertest"
	"github.com/heraldrt/herald/internal/syncbuf"
	"github.com/heraldrt/herald/internal/wstest"
)

const webhookSecret = "example-webhook-secret-0123456789"

func TestNodeBackend(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		browsertest.NeedService(t, "node backend example: node is not installed; install Node.js 20 or later")
	}
	if _, err := os.Stat(filepath.Join("node-backend", "node_modules", "express")); err != nil {
		browsertest.NeedService(t, "node backend example: express is not installed; run npm ci in examples/node-backend (make e2e-deps)")
	}
	runExample(t, "node-backend", "node", "server.js")
}

func TestPythonBackend(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		browsertest.NeedService(t, "python backend example: python3 is not installed")
	}
	runExample(t, "python-backend", "python3", "server.py")
}

// runExample starts the backend in dir with program and args, then herald
// in front of it, and plays a session: a connect with the session cookie
// and one without, an RPC, a refused subscription, and the webhooks.
func runExample(t *testing.T, dir, program string, args ...string) {
	port := clustertest.FreePort(t)
	cmd := exec.Command(program, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), fmt.Sprintf("PORT=%d", port), "HERALD_WEBHOOK_SECRET="+webhookSecret)
	var out syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	backend := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitListening(t, port, &out)

	cfg := filepath.Join(t.TempDir(), "herald.yaml")
	if err := os.WriteFile(cfg, []byte("proxy:\n  cookies: [sid]\n  timeout: 3s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	n := clustertest.StartNode(t, "example", "", "--config", cfg,
		"--proxy-url", backend+"/herald", "--webhook-url", backend+"/herald/webhooks", "--webhook-secret", webhookSecret)
	ws := "ws" + strings.TrimPrefix(n.URL(), "http") + "/ws"

	c := wstest.Dial(t, ws, http.Header{"Cookie": {"sid=sid-ann; theme=dark"}})
	res := c.Connect()
	if res.User != "ann" || res.Subs["inbox:ann"] == nil {
		t.Fatalf("connect with the session cookie: %+v\nbackend: %s", res, out.String())
	}
	if r := c.Call(map[string]any{"op": "rpc", "method": "whoami"}); r.Error != nil || string(r.Result) != `{"data":{"user":"ann"}}` {
		t.Fatalf("rpc whoami: %s %v", r.Result, r.Error)
	}
	if r := c.Call(map[string]any{"op": "rpc", "method": "sum", "data": []int{1, 2, 3}}); r.Error != nil || string(r.Result) != `{"data":6}` {
		t.Fatalf("rpc sum: %s %v", r.Result, r.Error)
	}
	if r := c.Call(map[string]any{"op": "rpc", "method": "nope"}); r.Error == nil || r.Error.Code != 1004 {
		t.Fatalf("rpc nope: %+v", r.Error)
	}
	if r := c.Call(map[string]any{"op": "subscribe", "channel": "admin:panel"}); r.Error == nil || r.Error.Code != 103 {
		t.Fatalf("subscribe admin:panel: %+v", r.Error)
	}
	if r := c.Call(map[string]any{"op": "subscribe", "channel": "chat"}); r.Error != nil {
		t.Fatal(r.Error)
	}

	anon := wstest.Dial(t, ws)
	id := anon.Command(map[string]any{"op": "connect"})
	if r := anon.WaitReply(id); r.Error == nil || r.Error.Code != 101 {
		t.Fatalf("connect without a session: %+v", r.Error)
	}

	c.Conn.Close(1000, "")
	want := []string{"user_online  ann", "channel_occupied inbox:ann ", "channel_occupied chat ",
		"channel_vacated chat ", "channel_vacated inbox:ann ", "user_offline  ann"}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := receivedEvents(t, backend)
		if containsAll(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhooks received by the backend:\n got %q\nwant %q\nbackend: %s\nherald: %s", got, want, out.String(), n.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// receivedEvents asks the example backend what webhooks it verified.
func receivedEvents(t *testing.T, backend string) []string {
	resp, err := http.Get(backend + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var events []struct{ Name, Channel, User string }
	if err := json.NewDecoder(resp.Body).Decode(&events); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range events {
		out = append(out, e.Name+" "+e.Channel+" "+e.User)
	}
	return out
}

func containsAll(got, want []string) bool {
	have := map[string]bool{}
	for _, g := range got {
		have[g] = true
	}
	for _, w := range want {
		if !have[w] {
			return false
		}
	}
	return true
}

func waitListening(t *testing.T, port int, out *syncbuf.Buffer) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the backend does not listen on %d: %s", port, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
