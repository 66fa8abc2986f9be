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
	"embed"
	"net/http"

	"github.com/heraldrt/herald/internal/static"
)

//go:embed static
var staticFS embed.FS

// files maps URL paths to the page's assets; "/" is index.html.
var files = static.MustDir(staticFS, "static")

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
		if !static.MethodAllowed(w, r, "only GET and HEAD are allowed") {
			return
		}
		h := w.Header()
		h.Set("Cache-Control", "no-cache")
		h.Set("Referrer-Policy", "no-referrer")
		if f.Name == "index.html" {
			h.Set("Content-Security-Policy", contentSecurityPolicy)
			h.Set("X-Frame-Options", "DENY")
		}
		f.Serve(w, r)
	})
}
