// Package static serves files embedded in the binary (the demo, the
// dashboard, the browser SDK): each with its content type, an ETag derived
// from its content, and conditional and range requests, so that browsers
// revalidate cheaply and see a new build at once.
package static

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"time"
)

// File is one embedded file, ready to serve.
type File struct {
	Name        string
	Body        []byte
	ContentType string
	ETag        string
}

// NewFile prepares body, named name, for serving.
func NewFile(name string, body []byte) *File {
	sum := sha256.Sum256(body)
	return &File{
		Name: name, Body: body, ContentType: ContentType(name),
		ETag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`,
	}
}

// Dir prepares every file below root in fsys, keyed by URL path relative
// to root ("/app.js"); an index.html also answers for its directory ("/").
func Dir(fsys fs.FS, root string) (map[string]*File, error) {
	out := make(map[string]*File)
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		f := NewFile(path.Base(p), body)
		urlPath := "/" + p[len(root)+1:]
		out[urlPath] = f
		if f.Name == "index.html" {
			out[path.Dir(urlPath)] = f
		}
		return nil
	})
	return out, err
}

// MustDir is Dir for files embedded in the binary, where an error is a
// mistake in the build (a root that is not embedded): it panics.
func MustDir(fsys fs.FS, root string) map[string]*File {
	out, err := Dir(fsys, root)
	if err != nil {
		panic("static: embedded files: " + err.Error())
	}
	return out
}

// MethodAllowed reports whether r is a GET or a HEAD; any other request it
// answers with 405, Allow: GET, HEAD and msg.
func MethodAllowed(w http.ResponseWriter, r *http.Request, msg string) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, msg, http.StatusMethodNotAllowed)
	return false
}

// ContentType returns the type of a file by its extension, the same on
// every system for the types the pages use.
func ContentType(name string) string {
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

// Serve writes f with its Content-Type, ETag and nosniff; it answers
// If-None-Match with 304 and honours Range. Headers the caller set before
// (Cache-Control, a content security policy) are kept.
func (f *File) Serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", f.ContentType)
	h.Set("ETag", f.ETag)
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, f.Name, time.Time{}, bytes.NewReader(f.Body))
}
