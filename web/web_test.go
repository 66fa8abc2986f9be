package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/heraldrt/herald/js"
	"github.com/heraldrt/herald/web"
)

// demoMux mounts the pages the way the herald binary does (without the
// WebSocket endpoint, which these tests do not need).
func demoMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/herald.js", js.Handler())
	mux.Handle("/", web.Handler())
	return mux
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

func TestServesDemo(t *testing.T) {
	srv := httptest.NewServer(demoMux())
	defer srv.Close()

	for _, tc := range []struct {
		path, contentType string
		contains          []string
	}{
		{"/", "text/html", []string{"<title>Herald chat</title>", `src="/app.js"`, `href="/style.css"`, `id="status"`}},
		{"/index.html", "text/html", []string{"<title>Herald chat</title>"}},
		{"/app.js", "text/javascript", []string{"from '/herald.js'", "/ws`"}},
		{"/style.css", "text/css", []string{"prefers-color-scheme: dark"}},
		{"/herald.js", "text/javascript", []string{"var Herald = class", "export {"}}, // as esbuild builds it (js/scripts/build.mjs)
	} {
		res, body := get(t, srv.URL+tc.path)
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d", tc.path, res.StatusCode)
			continue
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.contentType) {
			t.Errorf("GET %s: Content-Type %q, want %s", tc.path, ct, tc.contentType)
		}
		if res.Header.Get("ETag") == "" {
			t.Errorf("GET %s: no ETag", tc.path)
		}
		for _, s := range tc.contains {
			if !strings.Contains(body, s) {
				t.Errorf("GET %s: body lacks %q", tc.path, s)
			}
		}
	}

	res, _ := get(t, srv.URL+"/")
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("GET /: Content-Security-Policy %q", csp)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("GET /: Cache-Control %q, want no-cache", cc)
	}

	// Revalidation with the ETag answers 304.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/app.js", nil)
	req.Header.Set("If-None-Match", res.Header.Get("ETag"))
	if r, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		r.Body.Close()
		if r.StatusCode != http.StatusOK {
			t.Errorf("GET /app.js with the ETag of /: status %d, want 200", r.StatusCode)
		}
	}
	appRes, _ := get(t, srv.URL+"/app.js")
	req.Header.Set("If-None-Match", appRes.Header.Get("ETag"))
	if r, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		r.Body.Close()
		if r.StatusCode != http.StatusNotModified {
			t.Errorf("GET /app.js with its ETag: status %d, want 304", r.StatusCode)
		}
	}

	if res, _ := get(t, srv.URL+"/nope.js"); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /nope.js: status %d, want 404", res.StatusCode)
	}
	r, err := http.Post(srv.URL+"/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: status %d, want 405", r.StatusCode)
	}
}
