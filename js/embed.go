// Package js embeds Herald's browser SDK, herald.js: one self-contained ES
// module that speaks protocol v1 (in JSON, or in Protobuf where the
// WebSocket negotiates it, with bytes as publication data), reconnects with
// backoff, resubscribes and recovers its channels. The herald binary serves it at /herald.js; an
// application that embeds Herald mounts Handler wherever it likes:
//
//	mux.Handle("/herald.js", js.Handler())
//
// and a page imports it with
//
//	import { Herald } from '/herald.js';
//
// The same module is the npm package @heraldrt/herald (package.json and the
// generated types herald.d.ts in this folder), which also runs under
// Node.js 20 with the ws package; README.md documents it. herald.js is
// built with esbuild from the modules in src/ and committed, so that
// building Go needs no Node.js (npm run build; TestBuildIsFresh fails
// when it is behind src/).
package js

import (
	_ "embed"
	"net/http"

	"github.com/heraldrt/herald/internal/static"
)

//go:embed herald.js
var source []byte

// Source returns the SDK's source, for those who bundle it themselves.
// The caller must not modify the returned slice.
func Source() []byte { return source }

// file is herald.js ready to serve, with an ETag naming this build.
var file = static.NewFile("herald.js", source)

// Handler serves herald.js with Content-Type text/javascript, a short cache
// lifetime (5 minutes, so that a new server version reaches browsers soon),
// an ETag, and conditional and range requests. It allows any origin (CORS),
// because browsers load module scripts from other origins only with it, and
// the file is public. It answers GET and HEAD on any path it is mounted at;
// other methods get 405.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !static.MethodAllowed(w, r, "herald.js: only GET and HEAD are allowed") {
			return
		}
		h := w.Header()
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("Access-Control-Allow-Origin", "*")
		file.Serve(w, r)
	})
}
