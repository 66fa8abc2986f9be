package cli

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestServeDashboardPassword: --dashboard-password opens the dashboard to
// HTTP Basic sign-ins with any user name and that password, or the API
// key; anything else gets 401.
func TestServeDashboardPassword(t *testing.T) {
	r := startServeEnv(t, map[string]string{"HERALD_DASHBOARD_PASSWORD": "dash-pw", "HERALD_API_KEY": "api-key"},
		"--addr=127.0.0.1:0", "--shutdown-window=50ms")
	for _, tc := range []struct {
		user, password string
		want           int
	}{
		{"admin", "dash-pw", http.StatusOK},
		{"anyone", "dash-pw", http.StatusOK},
		{"admin", "api-key", http.StatusOK},
		{"admin", "wrong", http.StatusUnauthorized},
		{"", "", http.StatusUnauthorized},
	} {
		req, _ := http.NewRequest("GET", "http://"+r.addr+"/dashboard/", nil)
		if tc.password != "" {
			req.SetBasicAuth(tc.user, tc.password)
		}
		tr := &http.Transport{}
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		tr.CloseIdleConnections()
		if resp.StatusCode != tc.want {
			t.Errorf("user %q password %q: %d, want %d", tc.user, tc.password, resp.StatusCode, tc.want)
		}
	}
}

// TestServeDashboardWithoutPassword: without a password or API key the
// dashboard answers 401 with a page that names the binary's flags, not
// the library's fields.
func TestServeDashboardWithoutPassword(t *testing.T) {
	r := startServe(t, "--addr=127.0.0.1:0", "--shutdown-window=50ms")
	req, _ := http.NewRequest("GET", "http://"+r.addr+"/dashboard/", nil)
	req.Header.Set("Accept", "text/html")
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(b)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "--dashboard-password") || strings.Contains(page, "dashboard.Config") {
		t.Errorf("status %d, page:\n%s", resp.StatusCode, page)
	}
}
