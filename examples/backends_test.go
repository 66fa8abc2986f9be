// Package examples_test runs the example backends (examples/node-backend
// and examples/python-backend) against the real herald binary: each
// authenticates connects from a session cookie, answers RPCs (the demo
// chat's time among them), keeps the demo's feedback sends and receives
// signed webhooks. A test skips without node (or its npm packages: make
// e2e-deps) or python3, and fails instead under HERALD_REQUIRE_SERVICES=1.
package examples_test

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/browsertest"
	"github.com/heraldrt/herald/internal/clustertest"
	"github.com/heraldrt/herald/internal/wstest"
)

const webhookSecret = "example-webhook-secret-0123456789"

func TestNodeBackend(t *testing.T) {
	runExample(t, clustertest.StartNodeBackend(t, "HERALD_WEBHOOK_SECRET="+webhookSecret))
}

func TestPythonBackend(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		browsertest.NeedService(t, "python backend example: python3 is not installed")
	}
	runExample(t, clustertest.StartBackend(t, clustertest.ExampleDir("python-backend"), []string{"HERALD_WEBHOOK_SECRET=" + webhookSecret}, "python3", "server.py"))
}

// runExample puts herald in front of the running example backend be and
// plays a session: a connect with the session cookie and one without,
// RPCs, a refused subscription, and the webhooks.
func runExample(t *testing.T, be *clustertest.Backend) {
	backend := be.URL()

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
		t.Fatalf("connect with the session cookie: %+v\nbackend: %s", res, be.Output())
	}
	if r := c.Call(map[string]any{"op": "rpc", "method": "whoami"}); r.Error != nil || string(r.Result) != `{"data":{"user":"ann"}}` {
		t.Fatalf("rpc whoami: %s %v", r.Result, r.Error)
	}
	if r := c.Call(map[string]any{"op": "rpc", "method": "sum", "data": []int{1, 2, 3}}); r.Error != nil || string(r.Result) != `{"data":6}` {
		t.Fatalf("rpc sum: %s %v", r.Result, r.Error)
	}
	checkDemoCommands(t, c, backend)
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
			t.Fatalf("webhooks received by the backend:\n got %q\nwant %q\nbackend: %s\nherald: %s", got, want, be.Output(), n.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkDemoCommands checks what the demo chat's commands need from the
// backend: the time RPC answers the backend's clock, and a feedback send
// reaches it with the connection's user.
func checkDemoCommands(t *testing.T, c *wstest.Client, backend string) {
	t.Helper()
	r := c.Call(map[string]any{"op": "rpc", "method": "time"})
	var clock struct {
		Data struct {
			Now    time.Time `json:"now"`
			Server string    `json:"server"`
		} `json:"data"`
	}
	if r.Error != nil || json.Unmarshal(r.Result, &clock) != nil || time.Since(clock.Data.Now).Abs() > time.Minute || clock.Data.Server == "" {
		t.Fatalf("rpc time: %s %v, want the backend's clock", r.Result, r.Error)
	}
	if err := c.SendRaw(`{"op":"send","data":{"type":"feedback","text":"from the test","room":"lobby","name":"Ann"}}`); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var notes []struct{ Text, Room, Name, User string }
		getJSON(t, backend+"/feedback", &notes)
		for _, n := range notes {
			if n.Text == "from the test" && n.Room == "lobby" && n.Name == "Ann" && n.User == "ann" {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the feedback send did not reach the backend: %+v", notes)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// getJSON decodes the JSON answer to GET url into out.
func getJSON(t *testing.T, url string, out any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

// receivedEvents asks the example backend what webhooks it verified.
func receivedEvents(t *testing.T, backend string) []string {
	var events []struct{ Name, Channel, User string }
	getJSON(t, backend+"/events", &events)
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
