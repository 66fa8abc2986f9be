package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/browsertest"
	"github.com/heraldrt/herald/internal/redistest"
)

// centrifugoConfig lets anonymous clients connect, subscribe and publish
// on channels without a namespace, and sets the HTTP API key "k"
// (Centrifugo v6 configuration; also shown in docs/benchmarks.md).
const centrifugoConfig = `{
  "http_server": {"address": "127.0.0.1", "port": %d},
  "log": {"level": "warn"},
  "usage_stats": {"disabled": true},
  "client": {"allow_anonymous_connect_without_token": true},
  "channel": {"without_namespace": {
    "allow_subscribe_for_anonymous": true, "allow_subscribe_for_client": true,
    "allow_publish_for_anonymous": true, "allow_publish_for_client": true
  }},
  "http_api": {"key": "k"}
}`

// TestCentrifugoTarget runs fanout and chat against a real Centrifugo v6
// when CENTRIFUGO_BIN names its binary (it is not a service of this
// project, so the test is opt-in).
func TestCentrifugoTarget(t *testing.T) {
	bin := os.Getenv("CENTRIFUGO_BIN")
	if bin == "" {
		t.Skip("set CENTRIFUGO_BIN to a Centrifugo v6 binary to test --target centrifugo")
	}
	s := startCentrifugo(t, bin, "")
	r := runJSON(t, s, "fanout", "--target", "centrifugo", "--clients", "100", "--rate", "20", "--duration", "1s")
	if r.Connected != 100 || r.Publications.OK == 0 || r.Deliveries != 100*r.Publications.OK || r.Lost != 0 || r.Duplicates != 0 {
		t.Fatalf("fanout: %+v", r)
	}
	r = runJSON(t, s, "chat", "--target", "centrifugo", "--clients", "100", "--rooms", "10", "--rate", "50", "--duration", "1s")
	if r.Publications.OK == 0 || r.Deliveries != 10*r.Publications.OK || r.Lost != 0 || r.Errors != 0 {
		t.Fatalf("chat: %+v", r)
	}
}

// startCentrifugo runs the Centrifugo binary bin on a free port with
// centrifugoConfig, plus engine (a JSON member such as `"engine": {...}`)
// when not empty, and stops it after the test.
func startCentrifugo(t *testing.T, bin, engine string) testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	conf := fmt.Sprintf(centrifugoConfig, port)
	if engine != "" {
		conf = strings.TrimSuffix(conf, "}") + ",\n  " + engine + "\n}"
	}
	cfg := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-c", cfg)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	base := "127.0.0.1:" + strconv.Itoa(port)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get("http://" + base + "/health"); err == nil {
			_ = resp.Body.Close()
			http.DefaultClient.CloseIdleConnections()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("centrifugo did not start")
		}
	}
	return testServer{ws: "ws://" + base + "/connection/websocket", api: "http://" + base + "/api"}
}

// TestCentrifugoTwoNodesOnRedis runs fanout across two Centrifugo v6
// nodes on its Redis engine (the shared Redis, a key prefix of the
// test's own), subscribers split over both, publications through the
// first node's API, when CENTRIFUGO_BIN names its binary.
func TestCentrifugoTwoNodesOnRedis(t *testing.T) {
	bin := os.Getenv("CENTRIFUGO_BIN")
	if bin == "" {
		t.Skip("set CENTRIFUGO_BIN to a Centrifugo v6 binary to test --target centrifugo")
	}
	c, err := net.DialTimeout("tcp", "127.0.0.1:6379", time.Second)
	if err != nil {
		browsertest.NeedService(t, "no Redis at 127.0.0.1:6379 (%v): start one (apt-get install redis-server)", err)
	}
	_ = c.Close()
	prefix := fmt.Sprintf("heraldbenchtest-cf-%x", rand.Uint64())
	t.Cleanup(func() { redistest.DeleteKeys("127.0.0.1:6379", prefix+"*") })
	engine := `"engine": {"type": "redis", "redis": {"address": ["redis://127.0.0.1:6379"], "prefix": "` + prefix + `"}}`
	a, b := startCentrifugo(t, bin, engine), startCentrifugo(t, bin, engine)
	r := runJSON(t, testServer{ws: a.ws + "," + b.ws, api: a.api},
		"fanout", "--target", "centrifugo", "--clients", "100", "--rate", "20", "--duration", "1s")
	if r.Connected != 100 || len(r.URLs) != 2 || r.Publications.OK == 0 {
		t.Fatalf("fanout: %+v", r)
	}
	expectEveryDelivery(t, r, 100)
}
