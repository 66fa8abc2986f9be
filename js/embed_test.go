package js_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/heraldrt/herald/js"
)

func TestHandlerServesModule(t *testing.T) {
	srv := httptest.NewServer(js.Handler())
	defer srv.Close()

	res, err := http.Get(srv.URL + "/herald.js")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /herald.js: status %d", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("Content-Type = %q, want text/javascript", ct)
	}
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=") {
		t.Errorf("Cache-Control = %q, want a max-age", cc)
	}
	if o := res.Header.Get("Access-Control-Allow-Origin"); o != "*" {
		t.Errorf("Access-Control-Allow-Origin = %q, want * (pages on other origins import the module)", o)
	}
	if !bytes.Equal(body, js.Source()) {
		t.Error("body differs from js.Source()")
	}
	exported := exportedNames(body)
	for _, name := range []string{"Herald", "HeraldError", "shouldReconnect"} {
		if !exported[name] {
			t.Errorf("herald.js does not export %s (exports: %v)", name, exported)
		}
	}

	// The ETag lets browsers revalidate without downloading again.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/herald.js", nil)
	req.Header.Set("If-None-Match", res.Header.Get("ETag"))
	res2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	if res2.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET: status %d, want 304", res2.StatusCode)
	}

	res3, err := http.Post(srv.URL+"/herald.js", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	res3.Body.Close()
	if res3.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d, want 405", res3.StatusCode)
	}
}

// exportedNames returns the names in the export clause that ends the
// module, as esbuild writes it (export {\n  A,\n  B\n};).
func exportedNames(src []byte) map[string]bool {
	names := map[string]bool{}
	m := regexp.MustCompile(`(?m)^export \{([^}]*)\};?\s*$`).FindSubmatch(src)
	if m == nil {
		return names
	}
	for _, n := range strings.Split(string(m[1]), ",") {
		if n = strings.TrimSpace(n); n != "" {
			names[n] = true
		}
	}
	return names
}
