package cli

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// apiStatus calls POST /api/info on addr with header and returns the
// status.
func apiStatus(t *testing.T, addr string, header map[string]string) int {
	t.Helper()
	req, err := http.NewRequest("POST", "http://"+addr+"/api/info", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestServeAPIWithoutKey: without --api-key the HTTP API refuses every
// call (401, whatever key is sent), and the binary says once how to open
// it, naming its own flag, variable and config key rather than the
// library's api.Config.Key.
func TestServeAPIWithoutKey(t *testing.T) {
	r := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--log-format=json")
	for _, h := range []map[string]string{nil, {"X-API-Key": "guess"}, {"Authorization": "Bearer guess"}} {
		if got := apiStatus(t, r.addr, h); got != http.StatusUnauthorized {
			t.Errorf("no API key configured, header %v: status %d, want 401", h, got)
		}
	}
	var warnings []string
	for _, l := range r.logs.logLines(t) {
		if msg, _ := l["msg"].(string); strings.Contains(msg, "no key") {
			warnings = append(warnings, msg)
			if l["level"] != "WARN" || l["component"] != "api" {
				t.Errorf("the no-key warning is %v", l)
			}
		}
	}
	if len(warnings) != 1 {
		t.Fatalf("%d warnings about the missing API key, want 1: %q", len(warnings), warnings)
	}
	for _, want := range []string{"--api-key", "HERALD_API_KEY", "api_key"} {
		if !strings.Contains(warnings[0], want) {
			t.Errorf("the warning %q does not name %s", warnings[0], want)
		}
	}
	req, _ := http.NewRequest("POST", "http://"+r.addr+"/api/info", strings.NewReader("{}"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "--api-key") || strings.Contains(string(b), "api.Config") {
		t.Errorf("the 401 answer does not name the binary's flag: %s", b)
	}
	if strings.Contains(r.logs.String(), "api.Config") {
		t.Errorf("the binary's logs speak of the library's api.Config:\n%s", r.logs)
	}
}

// TestServeAPIKey: with --api-key, the HTTP API takes the key as
// X-API-Key or as a Bearer token, refuses a wrong one (401), and logs no
// warning about a missing key.
func TestServeAPIKey(t *testing.T) {
	const key = "api-key-0123456789"
	r := startServeEnv(t, map[string]string{"HERALD_API_KEY": key}, "--addr=127.0.0.1:0", "--shutdown-window=50ms", "--log-format=json")
	for _, tc := range []struct {
		header map[string]string
		want   int
	}{
		{map[string]string{"X-API-Key": key}, http.StatusOK},
		{map[string]string{"Authorization": "Bearer " + key}, http.StatusOK},
		{map[string]string{"X-API-Key": key + "x"}, http.StatusUnauthorized},
		{map[string]string{"Authorization": "Basic " + key}, http.StatusUnauthorized},
		{nil, http.StatusUnauthorized},
	} {
		if got := apiStatus(t, r.addr, tc.header); got != tc.want {
			t.Errorf("header %v: status %d, want %d", tc.header, got, tc.want)
		}
	}
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	if logs := r.logs.String(); strings.Contains(logs, "no key") || strings.Contains(logs, key) {
		t.Errorf("with a key, the logs warn of none or show it:\n%s", logs)
	}
}
