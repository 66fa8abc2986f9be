package static

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"
)

func TestDir(t *testing.T) {
	fsys := fstest.MapFS{
		"static/index.html":     {Data: []byte("<p>hi")},
		"static/app.js":         {Data: []byte("let x")},
		"static/sub/index.html": {Data: []byte("<p>sub")},
	}
	files := MustDir(fsys, "static")
	for path, body := range map[string]string{
		"/": "<p>hi", "/index.html": "<p>hi", "/app.js": "let x", "/sub": "<p>sub", "/sub/index.html": "<p>sub",
	} {
		if f := files[path]; f == nil || string(f.Body) != body {
			t.Errorf("%s: got %v, want %q", path, f, body)
		}
	}
	if len(files) != 5 {
		t.Errorf("%d paths, want 5", len(files))
	}
	if ct := files["/app.js"].ContentType; ct != "text/javascript; charset=utf-8" {
		t.Errorf("app.js: Content-Type %q", ct)
	}
}

func TestMustDirPanicsOnMissingRoot(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a root that is not there")
		}
	}()
	MustDir(fstest.MapFS{}, "static")
}

func TestMethodAllowed(t *testing.T) {
	for method, want := range map[string]bool{
		http.MethodGet: true, http.MethodHead: true, http.MethodPost: false, http.MethodDelete: false,
	} {
		w := httptest.NewRecorder()
		if got := MethodAllowed(w, httptest.NewRequest(method, "/", nil), "read only"); got != want {
			t.Errorf("%s: allowed %v, want %v", method, got, want)
		}
		if want {
			if w.Code != http.StatusOK || w.Body.Len() != 0 {
				t.Errorf("%s: answered %d %q, want nothing written", method, w.Code, w.Body)
			}
			continue
		}
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" || w.Body.String() != "read only\n" {
			t.Errorf("%s: answered %d, Allow %q, %q", method, w.Code, w.Header().Get("Allow"), w.Body)
		}
	}
}
