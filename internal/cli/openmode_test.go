package cli

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/wstest"
)

// TestCheckOpenMode: open mode is allowed on loopback addresses only,
// unless insecure; the refusal says why and what to do.
func TestCheckOpenMode(t *testing.T) {
	for _, tc := range []struct {
		addr     string
		loopback bool
	}{
		{"127.0.0.1:8080", true},
		{"127.0.0.1:0", true},
		{"127.1.2.3:8080", true},
		{"127.255.255.255:80", true},
		{"[::1]:8080", true},
		{"[::ffff:127.0.0.1]:8080", true},
		{"localhost:8080", true},
		{"LocalHost:8080", true},
		{":8080", false},
		{"0.0.0.0:8080", false},
		{"[::]:8080", false},
		{"128.0.0.1:8080", false},
		{"10.0.0.1:8080", false},
		{"192.168.1.10:8080", false},
		{"[fe80::1]:8080", false},
		{"[::2]:8080", false},
		{"example.com:8080", false},
		{"localhost.example.com:8080", false},
		{"127.0.0.1.nip.io:8080", false},
		{"not an address", false},
	} {
		err := checkOpenMode(tc.addr, false)
		if tc.loopback {
			if err != nil {
				t.Errorf("%s: refused: %v", tc.addr, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: allowed in open mode without --insecure", tc.addr)
			continue
		}
		for _, want := range []string{tc.addr, "open mode", "--insecure", "authentication", "127.0.0.1"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not mention %q", tc.addr, err, want)
			}
		}
		if err := checkOpenMode(tc.addr, true); err != nil {
			t.Errorf("%s: refused with --insecure: %v", tc.addr, err)
		}
	}
}

// TestServeOpenMode: without a token key, clients connect anonymously and
// may subscribe, publish and read history; on loopback the server says so
// at info level. With --insecure it also listens on every interface, and
// warns.
func TestServeOpenMode(t *testing.T) {
	r := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--log-format=json")
	c := wstest.Dial(t, r.url())
	if res := c.Connect(); res.User != "" {
		t.Errorf("connect result %+v, want an anonymous user", res)
	}
	expectOK(t, "subscribe", c.Call(map[string]any{"op": "subscribe", "channel": "lobby"}))
	expectOK(t, "publish", c.Call(map[string]any{"op": "publish", "channel": "lobby", "data": "hi"}))
	if _, err := c.NextPush("pub", 5*time.Second); err != nil {
		t.Errorf("no pub: %v", err)
	}
	expectOK(t, "history", c.Call(map[string]any{"op": "history", "channel": "lobby"}))
	if !strings.Contains(r.logs.String(), `"level":"INFO","msg":"open mode: clients connect anonymously`) {
		t.Errorf("no open-mode notice:\n%s", r.logs)
	}

	wide := startServe(t, "--addr=0.0.0.0:0", "--insecure", "--shutdown-window=50ms", "--log-format=json")
	_, port, _ := net.SplitHostPort(wide.addr)
	wstest.Dial(t, "ws://127.0.0.1:"+port+"/ws").Connect()
	if !strings.Contains(wide.logs.String(), `"level":"WARN","msg":"open mode on a non-loopback address (--insecure)`) {
		t.Errorf("no warning about open mode off loopback:\n%s", wide.logs)
	}
}
