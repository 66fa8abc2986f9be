package cli

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/syncbuf"
	"github.com/heraldrt/herald/internal/wstest"
	"github.com/heraldrt/herald/protocol"
)

// syncBuffer collects the server's log lines from its goroutines.
type syncBuffer struct{ syncbuf.Buffer }

// logLines decodes the JSON log lines written so far.
func (s *syncBuffer) logLines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// running is a serve call in progress.
type running struct {
	addr   string // host:port it listens on
	cancel context.CancelFunc
	done   chan error
	logs   *syncBuffer
}

// startServe runs serve in-process with args and no environment, and waits
// until it listens.
func startServe(t *testing.T, args ...string) *running {
	t.Helper()
	return startServeEnv(t, nil, args...)
}

// startServeEnv runs serve in-process with args and the environment vars,
// and waits until it listens.
func startServeEnv(t *testing.T, vars map[string]string, args ...string) *running {
	t.Helper()
	return startServeWith(t, serveOptions{lookupEnv: env(vars)}, args...)
}

// startServeWith runs serve in-process with args and o, whose stderr and
// ready it sets, and waits until it listens.
func startServeWith(t *testing.T, o serveOptions, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1), logs: &syncBuffer{}}
	ready := make(chan net.Addr, 1)
	o.stderr = r.logs
	o.ready = func(a net.Addr) { ready <- a }
	go func() { r.done <- serve(ctx, args, o) }()
	select {
	case a := <-ready:
		r.addr = a.String()
	case err := <-r.done:
		cancel()
		t.Fatalf("serve returned before listening: %v\nlogs:\n%s", err, r.logs)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatalf("serve did not listen in time; logs:\n%s", r.logs)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(15 * time.Second):
			t.Error("serve did not return after cancel")
		}
	})
	return r
}

// url returns the WebSocket URL of the server.
func (r *running) url() string { return "ws://" + r.addr + "/ws" }

// stop cancels serve's context and returns what serve returned.
func (r *running) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		return err
	case <-time.After(15 * time.Second):
		t.Fatalf("serve did not return after cancel; logs:\n%s", r.logs)
		return nil
	}
}

// TestServeGracefulShutdown runs the whole serve path: settings from flags,
// the logger, the open-mode check, the node, the routes and the HTTP server;
// a client connects; cancelling the context (as SIGINT or SIGTERM does)
// sends it a disconnect with code 3000 and reconnect true, and serve returns
// nil.
func TestServeGracefulShutdown(t *testing.T) {
	r := startServe(t, "--addr", "127.0.0.1:0", "--log-format", "json", "--log-level", "debug",
		"--shutdown-window", "200ms", "--name", "test-node")

	c := wstest.Dial(t, "ws://"+r.addr+"/ws")
	res := c.Connect()
	if res.Node != "test-node" {
		t.Errorf("connect result node %q, want test-node", res.Node)
	}

	r.cancel()
	m, err := c.NextPush("disconnect", 5*time.Second)
	if err != nil {
		t.Fatalf("no disconnect push: %v", err)
	}
	if m.Code != protocol.CloseShutdown || !m.Reconnect {
		t.Errorf("disconnect push code %d reconnect %v, want %d and true", m.Code, m.Reconnect, protocol.CloseShutdown)
	}
	if code := c.ExpectClose(5 * time.Second); code != protocol.CloseShutdown {
		t.Errorf("close code %d, want %d", code, protocol.CloseShutdown)
	}
	if err := r.stop(t); err != nil {
		t.Fatalf("serve returned %v, want nil", err)
	}

	// The logs are JSON and say where the demo is.
	var listening map[string]any
	for _, l := range r.logs.logLines(t) {
		if l["msg"] == "listening" {
			listening = l
		}
	}
	if listening == nil {
		t.Fatalf("no listening log; logs:\n%s", r.logs)
	}
	if listening["addr"] != r.addr || listening["url"] != "http://"+r.addr+"/" {
		t.Errorf("listening log %v, want addr %s and url http://%s/", listening, r.addr, r.addr)
	}
	for _, want := range []string{`"msg":"stopping"`, `"msg":"stopped"`, "open mode"} {
		if !strings.Contains(r.logs.String(), want) {
			t.Errorf("logs do not contain %s:\n%s", want, r.logs)
		}
	}
}

// TestServeRoutes checks that every route of the binary is mounted.
func TestServeRoutes(t *testing.T) {
	r := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--api-key=k")
	base := "http://" + r.addr
	for _, tc := range []struct {
		method, path string
		header       map[string]string
		status       int // 0: any 4xx
	}{
		{"GET", "/", nil, http.StatusOK},
		{"GET", "/herald.js", nil, http.StatusOK},
		{"POST", "/api/info", nil, http.StatusUnauthorized},
		{"POST", "/api/info", map[string]string{"X-API-Key": "k"}, http.StatusOK},
		{"GET", "/ws", nil, 0}, // not a WebSocket handshake
	} {
		req, err := http.NewRequest(tc.method, base+tc.path, strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range tc.header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if tc.status == 0 {
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Errorf("%s %s: status %d, want a 4xx", tc.method, tc.path, resp.StatusCode)
			}
			continue
		}
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, resp.StatusCode, tc.status)
		}
	}
	http.DefaultClient.CloseIdleConnections()
	if err := r.stop(t); err != nil {
		t.Fatalf("serve returned %v", err)
	}
}

// TestServeRefusesOpenModeOnNonLoopback: open mode on 0.0.0.0 never
// listens, and logs why and how to allow it.
func TestServeRefusesOpenModeOnNonLoopback(t *testing.T) {
	logs := &syncBuffer{}
	err := serve(context.Background(), []string{"--addr", "0.0.0.0:0", "--log-format", "json"}, serveOptions{
		lookupEnv: env(nil),
		stderr:    logs,
		ready:     func(net.Addr) { t.Error("serve listened") },
	})
	if err == nil {
		t.Fatal("serve accepted 0.0.0.0 in open mode")
	}
	var ue usageError
	if errors.As(err, &ue) {
		t.Errorf("refusal is a usage error: %v", err)
	}
	for _, want := range []string{"0.0.0.0:0", "open mode", "--insecure", "authentication"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log does not say %q:\n%s", want, logs)
		}
	}
}

// TestServeListenError: an address in use is logged as an error.
func TestServeListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	logs := &syncBuffer{}
	err = serve(context.Background(), []string{"--addr", ln.Addr().String(), "--log-format", "text"}, serveOptions{
		lookupEnv: env(nil),
		stderr:    logs,
	})
	if err == nil {
		t.Fatal("serve listened on a port in use")
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), ln.Addr().String()) {
		t.Errorf("the error was not logged in text format:\n%s", logs)
	}
}

// TestServeUsageErrors: a bad flag or a stray argument is a usage error.
func TestServeUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"--ping-interval", "5"}, {"--nope"}, {"stray"}} {
		err := serve(context.Background(), args, serveOptions{lookupEnv: env(nil), stderr: io.Discard})
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("%q: got %v, want a usage error", args, err)
		}
	}
}
