package dashboard

import (
	"embed"
	"net/http"

	"github.com/heraldrt/herald/internal/static"
)

//go:embed static
var staticFS embed.FS

// assets maps the paths under the mount point to the page's files; "/" is
// index.html. It is filled once and only read.
var assets = static.MustDir(staticFS, "static")

// serveAsset answers with the embedded file at p (relative to the mount
// point), or 404.
func serveAsset(w http.ResponseWriter, r *http.Request, p string) {
	a, ok := assets[p]
	if !ok {
		http.Error(w, "not found: the dashboard is at the mount point's root", http.StatusNotFound)
		return
	}
	// Revalidate every time: a new binary brings a new page.
	w.Header().Set("Cache-Control", "private, no-cache")
	a.Serve(w, r)
}
