// Package web embeds Herald's demo pages: a chat that works across browser
// tabs, built on the browser SDK (package js). The herald binary serves it at
// "/"; an application that embeds Herald can mount it the same way:
//
//	mux.Handle("/ws", node.Handler())
//	mux.Handle("/herald.js", js.Handler())
//	mux.Handle("/", web.Handler())
//
// The page imports the SDK from /herald.js and connects to ws(s)://<host>/ws,
// so the three must be mounted at those paths.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"time"
)

//go:embed static
var static embed.FS

// file is one embedded page asset, ready to serve.
type file struct {
	name        string
	body        []byte
	contentType string
	etag        string
}

// files maps URL paths to assets; "/" is index.html.
var files = func() map[string]*file {
	out := make(map[string]*file)
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		f := &file{
			name:        path.Base(p),
			body:        body,
			contentType: contentType(p),
			etag:        `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`,
		}
		urlPath := "/" + p[len("static/"):]
		out[urlPath] = f
		if f.name == "index.html" {
			out[path.Dir(urlPath)] = f
		}
		return nil
	})
	if err != nil {
		panic("web: embedded files: " + err.Error())
	}
	return out
}()

func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// contentSecurityPolicy keeps the demo to its own origin: its scripts,
// styles and the WebSocket at /ws (ws: and wss: for browsers whose 'self'
// does not cover WebSocket URLs yet).
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; connect-src 'self' ws: wss:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Handler serves the demo chat: index.html at "/" and its assets (app.js,
// style.css) beside it. Every response carries an ETag and asks browsers to
// revalidate (Cache-Control: no-cache), so a new server version shows at
// once. Unknown paths get 404 and methods other than GET and HEAD get 405.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := files[r.URL.Path]
		if f == nil {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "only GET and HEAD are allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.contentType)
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", f.etag)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if f.name == "index.html" {
			h.Set("Content-Security-Policy", contentSecurityPolicy)
			h.Set("X-Frame-Options", "DENY")
		}
		http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.body))
	})
}
