package cli

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldrt/herald/internal/wstest"
)

// get fetches url and returns the status and the body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestAdminRoutesOnMainAddress: without --admin-addr, /healthz, /readyz
// and /metrics are on the main address, pprof never is, and the dashboard
// without a password answers 401.
func TestAdminRoutesOnMainAddress(t *testing.T) {
	r := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms")
	wstest.Dial(t, "ws://"+r.addr+"/ws").Connect()
	if code, body := get(t, "http://"+r.addr+"/healthz"); code != 200 || !strings.Contains(body, "ok") {
		t.Fatalf("healthz %d %q", code, body)
	}
	if code, body := get(t, "http://"+r.addr+"/readyz"); code != 200 {
		t.Fatalf("readyz %d %q", code, body)
	}
	code, body := get(t, "http://"+r.addr+"/metrics")
	for _, want := range []string{"herald_connections 1", "herald_connects_total 1", "go_goroutines", "process_resident_memory_bytes"} {
		if code != 200 || !strings.Contains(body, want) {
			t.Fatalf("metrics (%d) lack %q", code, want)
		}
	}
	if code, _ := get(t, "http://"+r.addr+"/debug/pprof/"); code == 200 {
		t.Fatal("pprof must never be on the main address")
	}
	if code, _ := get(t, "http://"+r.addr+"/dashboard/"); code != http.StatusUnauthorized {
		t.Fatalf("dashboard without a password answered %d", code)
	}
}

// TestAdminAddressWithPprof: --admin-addr serves the admin routes, and
// pprof with --pprof, there and not on the main address.
func TestAdminAddressWithPprof(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	admin := ln.Addr().String()
	_ = ln.Close()
	r := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--admin-addr", admin, "--pprof")
	deadline := time.Now().Add(5 * time.Second)
	for {
		if code, _ := get(t, "http://"+admin+"/debug/pprof/"); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("pprof not served on the admin address")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, _ := get(t, "http://"+admin+"/metrics"); code != 200 {
		t.Fatalf("metrics on admin: %d", code)
	}
	if code, _ := get(t, "http://"+r.addr+"/metrics"); code == 200 {
		t.Fatal("metrics also on the main address with --admin-addr")
	}
}

// TestPprofNeedsAdminAddress: --pprof alone is refused, since pprof is
// only served on the admin address.
func TestPprofNeedsAdminAddress(t *testing.T) {
	if _, err := Load([]string{"--pprof"}, env(nil)); err != nil {
		t.Fatal(err) // Load accepts it; serve refuses the combination
	}
	c, _ := Load([]string{"--pprof"}, env(nil))
	if err := c.checkCombinations(); err == nil || !strings.Contains(err.Error(), "admin") {
		t.Fatalf("got %v", err)
	}
}
