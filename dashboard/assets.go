package dashboard

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

// asset is one embedded file of the page, ready to serve.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// assets maps the paths under the mount point to the page's files; "/" is
// index.html. It is filled once and only read.
var assets = func() map[string]asset {
	out := make(map[string]asset)
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ct := mime.TypeByExtension(path.Ext(p))
		switch path.Ext(p) { // independent of the system's MIME tables
		case ".html":
			ct = "text/html; charset=utf-8"
		case ".js":
			ct = "text/javascript; charset=utf-8"
		case ".css":
			ct = "text/css; charset=utf-8"
		case ".svg":
			ct = "image/svg+xml"
		}
		a := asset{body: body, contentType: ct, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
		name := "/" + path.Base(p)
		out[name] = a
		if name == "/index.html" {
			out["/"] = a
		}
		return nil
	})
	if err != nil {
		panic("dashboard: read embedded assets: " + err.Error())
	}
	return out
}()

// serveAsset answers with the embedded file at p (relative to the mount
// point), or 404.
func serveAsset(w http.ResponseWriter, r *http.Request, p string) {
	a, ok := assets[p]
	if !ok {
		http.Error(w, "not found: the dashboard is at the mount point's root", http.StatusNotFound)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", a.contentType)
	hd.Set("ETag", a.etag)
	// Revalidate every time: a new binary brings a new page.
	hd.Set("Cache-Control", "private, no-cache")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}
