package dashboard

import (
	"html/template"
	"log/slog"
	"net/http"
	"strings"

	"github.com/heraldrt/herald/internal/secret"
)

// defaultPasswordHint says how to open a dashboard that has no password,
// unless Config.PasswordHint says it in the program's own terms.
const defaultPasswordHint = "set dashboard.Config.Password or APIKey"

// authenticator accepts HTTP Basic credentials whose password is the admin
// password or the API key; the user name is not checked. Both are kept only
// as digests and compared in constant time (package secret).
type authenticator struct {
	password, apiKey secret.Digest
}

func newAuthenticator(password, apiKey string) authenticator {
	return authenticator{password: secret.New(password), apiKey: secret.New(apiKey)}
}

func (a authenticator) configured() bool { return a.password.IsSet() || a.apiKey.IsSet() }

// accepts compares got with both secrets, always both, in constant time.
func (a authenticator) accepts(got string) bool {
	return secret.MatchesAny(got, a.password, a.apiKey)
}

// authorize answers 401 and returns false unless r carries an accepted
// password.
func (h *handler) authorize(w http.ResponseWriter, r *http.Request) bool {
	if !h.auth.configured() {
		// No challenge: a browser would ask for a password that cannot
		// work; it shows the explanation instead.
		notConfigured(w, r, h.hint)
		return false
	}
	_, password, ok := r.BasicAuth()
	if ok && h.auth.accepts(password) {
		return true
	}
	if ok {
		h.log.LogAttrs(r.Context(), slog.LevelWarn, "dashboard sign-in failed",
			slog.String("remote", h.node.ClientAddr(r)), slog.String("path", r.URL.Path))
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="Herald dashboard", charset="UTF-8"`)
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, "sign in with any user name and the dashboard password or the API key", http.StatusUnauthorized)
	return false
}

var notConfiguredPage = template.Must(template.New("401").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark"><title>Herald dashboard: not configured</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;margin:0;min-height:100vh;display:grid;place-items:center;background:#f4f5f8;color:#1c1e24}
main{max-width:34rem;margin:2rem;padding:2rem 2.25rem;border-radius:16px;background:#fff;border:1px solid #e3e5ea}
h1{font-size:1.25rem;margin:0 0 .75rem}code{font:.9em ui-monospace,monospace;background:#ededfc;padding:.1em .35em;border-radius:6px}
pre{font:.85em ui-monospace,monospace;background:#f6f7f9;border:1px solid #e3e5ea;padding:.75rem 1rem;border-radius:10px;overflow:auto}
@media (prefers-color-scheme:dark){body{background:#0f1115;color:#e8eaef}main{background:#171a20;border-color:#2a2f38}code{background:#25264a}pre{background:#1d2128;border-color:#2a2f38}}
</style></head><body><main>
<h1>The dashboard has no password</h1>
<p>Herald refuses every request to the dashboard until it has a password: {{.}}.</p>
<p>Then sign in with any user name and that password.</p>
</main></body></html>
`))

func notConfigured(w http.ResponseWriter, r *http.Request, hint string) {
	hd := w.Header()
	hd.Set("Cache-Control", "no-store")
	if !strings.Contains(r.Header.Get("Accept"), "text/html") {
		http.Error(w, "the dashboard has no password: "+hint, http.StatusUnauthorized)
		return
	}
	// The page's own inline style, and nothing else.
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	hd.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusUnauthorized)
	_ = notConfiguredPage.Execute(w, hint)
}
